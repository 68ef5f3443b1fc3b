"""Every reply the project-information tests receive is checked against its declared model."""

from __future__ import annotations

import pytest

from tests.replies import watch_test_clients


@pytest.fixture(autouse=True)
def _replies_match_their_declaration(request: pytest.FixtureRequest) -> None:
    """2xx JSON replies of declared routes must validate against their ``response=`` model."""
    watch_test_clients(request)
