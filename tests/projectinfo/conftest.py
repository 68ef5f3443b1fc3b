"""Every reply the project-information tests receive is checked against its declared model."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sanic import Sanic

from tests.replies import watch_replies


@pytest.fixture(autouse=True)
def _replies_match_their_declaration(client: httpx.AsyncClient, app: Sanic) -> Any:
    """2xx JSON replies of declared routes must validate against their ``response=`` model."""
    watch_replies(client, app)
