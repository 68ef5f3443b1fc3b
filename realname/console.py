"""The web console's bundle (`web/dist`, built by `make web`), served by the platform at `/`.

* `/assets/*` are Vite's content-hashed files: cached for a year (`immutable`).
* `/` and any other GET path that no route answers and that is not under an API prefix get
  `index.html` (history-mode fallback for Vue Router), never cached so a new build shows at once.
* Paths under the API, device, docs and stand-in prefixes keep their JSON 404.
* Without a bundle, `/` explains in Chinese how to build it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from sanic import Request, Sanic
from sanic.exceptions import NotFound as RouteNotFound
from sanic.response import HTTPResponse, raw
from sanic_ext.extensions.openapi import openapi

from realname.web import render_error

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
# Never answered with the console: the API surfaces, terminals, docs, health and the stand-ins.
RESERVED_PREFIXES = ("/admin", "/miniapp", "/device", "/iclock", "/docs", "/healthz", "/_dev")
ASSET_CACHE = "public, max-age=31536000, immutable"

MISSING_BUNDLE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>建筑工人实名制管理平台</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.7">
<h1>网页控制台尚未构建</h1>
<p>平台的接口已在运行（接口文档见 <a href="/docs">/docs</a>），但网页控制台的前端文件
（<code>web/dist</code>）不存在。</p>
<p>请在项目根目录执行 <code>make web</code>（需要 Node 20 与 npm，会执行
<code>npm ci</code> 和 <code>npm run build</code>），或直接执行 <code>make run</code>，
它会在前端文件缺失或过期时自动构建，然后刷新本页。</p>
</body></html>
"""


def mount_console(app: Sanic, dist: Path | None = None) -> None:
    """Serve the bundle; `app.ctx.web_dist` may be changed later (tests point it elsewhere)."""
    app.ctx.web_dist = dist or DEFAULT_DIST
    app.add_route(console_index, "/", methods=["GET"], name="console_index")
    app.add_route(console_asset, "/assets/<name:path>", methods=["GET"], name="console_asset")
    app.error_handler.add(RouteNotFound, console_fallback)


def _dist(request: Request) -> Path:
    return Path(request.app.ctx.web_dist)


def _index(request: Request) -> HTTPResponse:
    index = _dist(request) / "index.html"
    if not index.is_file():
        return raw(
            MISSING_BUNDLE.encode(),
            status=503,
            content_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )
    return raw(
        index.read_bytes(),
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def _file(path: Path, cache: str) -> HTTPResponse:
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
        ctype += "; charset=utf-8"
    return raw(path.read_bytes(), content_type=ctype, headers={"Cache-Control": cache})


def _inside(base: Path, name: str) -> Path | None:
    """`base/name` when it is a file inside `base` (no `..` escape), else None."""
    try:
        target = (base / name).resolve()
        target.relative_to(base.resolve())
    except (ValueError, OSError):
        return None
    return target if target.is_file() else None


@openapi.exclude()
async def console_index(request: Request) -> HTTPResponse:
    """The console's single page (or how to build it)."""
    return _index(request)


@openapi.exclude()
async def console_asset(request: Request, name: str) -> HTTPResponse:
    """A hashed bundle file, cached for a year; a missing one is a plain 404 (never index.html)."""
    path = _inside(_dist(request) / "assets", name)
    if path is None:
        return raw(b"Not Found", status=404, content_type="text/plain; charset=utf-8")
    return _file(path, ASSET_CACHE)


def _is_reserved(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES)


async def console_fallback(request: Request, exception: Exception) -> HTTPResponse:
    """No route matched: the console for page navigations, the usual JSON 404 for the API."""
    path = request.path
    if request.method not in ("GET", "HEAD") or _is_reserved(path):
        return await render_error(request, exception)
    # Files at the bundle's root (favicon.ico...), copied from web/public by Vite.
    root_file = _inside(_dist(request), path.lstrip("/")) if path.count("/") == 1 else None
    if root_file is not None and root_file.name != "index.html":
        return _file(root_file, "public, max-age=3600")
    return _index(request)
