"""The platform serves the web console's bundle at /: history fallback, caching, no shadowing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sanic import Sanic

INDEX = (
    b'<!doctype html><html><body><div id="app"></div>'
    b'<script src="/assets/index-abc123.js"></script></body></html>'
)


@pytest.fixture
def bundle(app: Sanic, tmp_path: Path) -> Iterator[Path]:
    """A built bundle in a temp dir, served by the session's app for the duration of a test."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('控制台')", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}", encoding="utf-8")
    (tmp_path / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path.parent / "secret.txt").write_text("outside the bundle", encoding="utf-8")
    before = app.ctx.web_dist
    app.ctx.web_dist = tmp_path
    yield tmp_path
    app.ctx.web_dist = before


async def test_root_and_history_fallback_serve_index_uncached(
    client: httpx.AsyncClient, bundle: Path
) -> None:
    for path in ("/", "/workbench", "/attendance/punch?month=2026-01", "/labour/teams/3"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.content == INDEX, path
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-cache"


async def test_hashed_assets_are_cached_for_a_year(client: httpx.AsyncClient, bundle: Path) -> None:
    r = await client.get("/assets/index-abc123.js")
    assert r.status_code == 200
    assert r.text == "console.log('控制台')"
    assert r.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    css = await client.get("/assets/index-abc123.css")
    assert css.headers["content-type"].startswith("text/css")
    # A missing asset is a 404, never index.html (a stale page must not run HTML as a script).
    missing = await client.get("/assets/index-gone.js")
    assert missing.status_code == 404
    assert b"<html" not in missing.content
    # No way out of the bundle.
    escape = await client.get("/assets/..%2F..%2Fsecret.txt")
    assert escape.status_code == 404
    assert b"outside" not in escape.content


async def test_root_files_of_the_bundle(client: httpx.AsyncClient, bundle: Path) -> None:
    r = await client.get("/favicon.svg")
    assert r.status_code == 200
    assert r.text == "<svg/>"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/v1/no-such-thing",
        "/admin",
        "/miniapp/v1/nothing",
        "/device/v1/nothing",
        "/iclock/nothing",
        "/docs/nothing",
        "/healthz/x",
        "/_dev/nothing",
    ],
)
async def test_api_prefixes_keep_their_json_404(
    client: httpx.AsyncClient, bundle: Path, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert b"<html" not in r.content
    if not path.startswith("/iclock"):  # the ADMS adapter answers terminals in plain text
        assert r.json()["code"] == "not_found"


async def test_api_routes_are_not_shadowed(client: httpx.AsyncClient, bundle: Path) -> None:
    assert (await client.get("/healthz")).json()["status"] in ("ok", "degraded")
    me = await client.get("/admin/v1/auth/me")
    assert me.status_code == 401
    assert me.headers["content-type"].startswith("application/json")
    # Unknown paths with other methods are API errors, not the page.
    r = await client.post("/workbench")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


async def test_without_a_bundle_root_explains_how_to_build(
    app: Sanic, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    before = app.ctx.web_dist
    app.ctx.web_dist = tmp_path / "missing"
    try:
        for path in ("/", "/workbench"):
            r = await client.get(path)
            assert r.status_code == 503
            assert "make web" in r.text
            assert "网页控制台尚未构建" in r.text
    finally:
        app.ctx.web_dist = before
