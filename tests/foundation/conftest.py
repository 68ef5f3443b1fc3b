"""Replies of the project-information routes these tests call match their declared model."""

from __future__ import annotations

import pytest

from tests.replies import watch_test_clients

CHECKED = frozenset(
    {
        "admin_api.projects",
        "admin_api.public",
        "admin_api.units",
        "admin_api.workbench",
        "admin_api.announcements",
        "admin_api.materials",
        "admin_api.status_changes",
        "admin_api.reviews",
        "admin_api.auth",
        "admin_api.audit",
    }
)


@pytest.fixture(autouse=True)
def _replies_match_their_declaration(request: pytest.FixtureRequest) -> None:
    """2xx JSON replies of these routes must validate against their ``response=`` model."""
    watch_test_clients(request, CHECKED)
