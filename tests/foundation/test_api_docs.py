"""docs/api.md is generated from the OpenAPI document and the error registry, and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.suite import another_app

ROOT = Path(__file__).resolve().parents[2]


def test_api_docs_are_current():
    """A route, summary or error code changed without regenerating docs/api.md fails here
    (in a subprocess: building a second app in this process would disturb the session's)."""
    done = subprocess.run(
        [sys.executable, "-m", "scripts.routes", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


async def test_an_app_started_later_leaves_the_served_document_whole(client, settings, database):
    """sanic-ext's specification is process-wide: a second app started in this process (a
    one-surface app here; test_health's dead-Redis app did it) took the shared handlers'
    operations out of the session app's /docs/openapi.json (four contract tests failed when
    tests/foundation ran first). Each app serves the document it built at start-up."""
    before = (await client.get("/docs/openapi.json")).json()
    assert "/admin/v1/auth/sso/start" in before["paths"] and "/device/v1/punches" in before["paths"]
    devices_only = settings.model_copy(
        update={"surfaces": "device", "redis_url": "redis://127.0.0.1:1/0"}
    )
    async with another_app(devices_only, "realname_docs_other") as c:
        theirs = (await c.get("/docs/openapi.json")).json()
        after = (await client.get("/docs/openapi.json")).json()
    assert after == before
    assert "/device/v1/punches" in theirs["paths"]
    assert not any(p.startswith(("/admin/", "/miniapp/")) for p in theirs["paths"])
