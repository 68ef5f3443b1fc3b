"""The app factory: one Sanic app serving the admin, mini-program and device surfaces."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse
from tortoise import Tortoise, connections

from config.settings import Settings, get_settings
from realname import db
from realname.nonce import nonce_client
from realname.redis_conn import RedisHandle
from realname.storage import FileStoreRefused, make_file_store
from realname.web import ok, render_error
from services import localtime, pii

log = logging.getLogger("realname")
access_log = logging.getLogger("realname.access")

SURFACE_PREFIXES = {"admin": "/admin/v1", "miniapp": "/miniapp/v1", "device": "/device/v1"}


def _surface_blueprints(package: ModuleType) -> list[Blueprint]:
    """Every module of a surface package that defines ``bp`` contributes its blueprint."""
    found: list[Blueprint] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            found.append(bp)
    return found


def create_app(
    settings: Settings | None = None,
    *,
    name: str = "realname",
    manage_db: bool = True,
    redis_handle: RedisHandle | None = None,
) -> Sanic:
    """Build the app. ``manage_db=False`` lets tests own the database connection."""
    settings = settings or get_settings()
    pii.configure(settings)
    localtime.configure(settings)
    app = Sanic(name, env_prefix="SANIC_")
    app.config.REQUEST_MAX_SIZE = max(settings.max_upload_bytes * 2, 20 * 1024 * 1024)
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.API_TITLE = "建筑工人实名制管理平台 API"
    app.config.API_VERSION = "1"
    app.config.CORS = False
    # No automatic OPTIONS handlers (CORS is off, nothing answers preflights): sanic-ext adds one
    # route per path at every worker start, re-finalising the router each time; with our ~170
    # routes that took most of a worker's start (and past Sanic's 30 s worker-ack limit on a busy
    # host), slowing every restart of a scaled-out instance. Automatic HEAD stays (cheaper).
    app.config.HTTP_AUTO_OPTIONS = False
    app.ctx.settings = settings
    app.ctx.redis_handle = redis_handle or RedisHandle(settings)
    app.ctx.owns_redis = redis_handle is None

    surfaces = settings.surface_set
    import admin_api
    import devices
    import miniapp_api

    packages = {"admin": admin_api, "miniapp": miniapp_api, "device": devices}
    for surface, package in packages.items():
        if surface not in surfaces:
            continue
        blueprints = _surface_blueprints(package)
        if blueprints:
            app.blueprint(Blueprint.group(*blueprints, url_prefix=SURFACE_PREFIXES[surface]))
        extra = getattr(package, "extra_blueprints", None)
        if extra is not None:  # e.g. the ZKTeco ADMS adapter under /iclock
            for bp in extra():
                app.blueprint(bp)

    if settings.standins_enabled:
        _mount_standins(app, settings)

    app.add_route(healthz, "/healthz", methods=["GET"], name="healthz")
    app.error_handler.add(Exception, render_error)
    from realname.console import mount_console

    mount_console(app)  # the web console (web/dist) at /, after the API routes

    from realname.contract import guard_path

    app.on_request(guard_path)  # ids within range, bounded strings, on every surface route

    @app.on_request
    async def _start_timer(request: Request) -> None:
        request.ctx.t0 = time.perf_counter()
        localtime.reset_reply_zone()  # the platform's zone until the handler resolves a project

    @app.on_response
    async def _access_log(request: Request, response: HTTPResponse) -> None:
        # The path only: query strings can carry ID numbers or phones, which must never be logged.
        t0 = getattr(request.ctx, "t0", None)
        ms = (time.perf_counter() - t0) * 1000 if t0 else 0.0
        access_log.info("%s %s %s %.1fms", request.method, request.path, response.status, ms)

    @app.before_server_start
    async def _open(app: Sanic, _loop: Any = None) -> None:
        if manage_db and not Tortoise._inited:
            await db.init_db(settings, create_schema=settings.env == "test")
        handle: RedisHandle = app.ctx.redis_handle
        await asyncio.to_thread(handle.start)
        app.ctx.redis = handle.async_client()
        # The device nonce check (one SET NX EX per signed request) uses a lean pipelined
        # client on the same Redis; anything it cannot handle (TLS...) keeps redis-py.
        app.ctx.nonces = nonce_client(handle.url, handle.socket_path) or app.ctx.redis
        app.ctx.files = make_file_store(settings)
        _open_integrations(app, settings, handle)

    @app.after_server_stop
    async def _close(app: Sanic, _loop: Any = None) -> None:
        if app.ctx.nonces is not app.ctx.redis:
            await app.ctx.nonces.aclose()
        await app.ctx.redis.aclose()
        if manage_db:
            await db.close_db()
        if app.ctx.owns_redis:
            app.ctx.redis_handle.stop()

    _setup_openapi(app)
    from services.attendance import register_background

    register_background(app)  # closes days still marked "today" after 24:00
    from services.devices import register_presence_sweep

    register_presence_sweep(app)  # audits devices gone quiet as offline
    return app


def _open_integrations(app: Sanic, settings: Settings, handle: RedisHandle) -> None:
    """Create the WeChat and provincial-SSO clients, when their modules are present."""
    try:
        from integrations.wechat.client import WeChatService

        app.ctx.wechat = WeChatService(settings, handle.sync_client())
    except ImportError:  # pragma: no cover - integration not installed
        app.ctx.wechat = None
    try:
        from integrations.idauth.client import IdAuthClient

        app.ctx.idauth = IdAuthClient(settings)
    except ImportError:  # pragma: no cover
        app.ctx.idauth = None


def _mount_standins(app: Sanic, settings: Settings) -> None:
    """Mount the WeChat and SSO development stand-ins (never in production)."""
    from integrations.idauth.standin import idauth_standin_blueprint
    from integrations.wechat.standin import wechat_standin_blueprint
    from services.demo import standin_companies

    wechat = wechat_standin_blueprint(
        url_prefix="/_dev/wechat", appid=settings.wechat_appid, secret=settings.wechat_secret
    )
    idauth = idauth_standin_blueprint(
        url_prefix="/_dev/idauth",
        client_id=settings.idauth_client_id,
        client_secret=settings.idauth_client_secret,
        companies=standin_companies,
    )
    app.blueprint(wechat)
    app.blueprint(idauth)


def _setup_openapi(app: Sanic) -> None:
    """OpenAPI docs (sanic-ext) for the admin and mini-program surfaces, at /docs."""
    from sanic_ext import Extend
    from sanic_ext.extensions.health.extension import HealthExtension
    from sanic_ext.extensions.http.extension import HTTPExtension
    from sanic_ext.extensions.logging.extension import LoggingExtension
    from sanic_ext.extensions.openapi.extension import OpenAPIExtension

    app.config.OAS_IGNORE_HEAD = True
    app.config.OAS_IGNORE_OPTIONS = True
    Extend(
        app,
        # The built-in extensions but dependency injection: the platform injects nothing through
        # sanic-ext (the contract hands handlers their arguments), and its per-request signal
        # (``http.routing.after``) was ~4 % of a signed punch's worker CPU (issue 13).
        extensions=[OpenAPIExtension, HTTPExtension, HealthExtension, LoggingExtension],
        built_in_extensions=False,
        config={
            "oas": True,
            "cors": False,
            "health": False,
            "templating": False,
            "oas_url_prefix": "/docs",
            # Swagger UI from the platform's own files (swagger-ui-bundle), never a CDN
            "oas_ui_redoc": False,
            "oas_path_to_swagger_html": str(Path(__file__).with_name("swagger.html")),
            "oas_ui_swagger_cdn_url": "",
            "oas_ui_swagger_html_title": "建筑工人实名制管理平台 API",
            "swagger_ui_configuration": {
                "apisSorter": "alpha",
                "operationsSorter": "alpha",
                "docExpansion": "none",
                "validatorUrl": None,
            },
        },
    )
    import swagger_ui_bundle

    app.static("/docs/assets", swagger_ui_bundle.swagger_ui_path, name="swagger_assets")
    from realname import openapi_contract

    # components (pydantic schemas, Error) and security schemes of the declared routes
    app.before_server_start(lambda _app: openapi_contract.install(app=_app))
    # the document of this app, kept at start-up (sanic-ext's state is shared by every app)
    app.before_server_start(
        openapi_contract.keep_document, priority=openapi_contract.KEEP_DOCUMENT_PRIORITY
    )
    app.register_named_middleware(
        openapi_contract.serve_kept_document, [f"{app.name}.openapi.spec"], "request"
    )


async def _check(probe: Callable[[], Awaitable[Any]], timeout: float) -> str:
    """One dependency's state for /healthz: "ok", or "down: <why>" (the probe failed, timed out
    or answered False; a reachable file store that refuses says what to fix)."""
    try:
        answer = await asyncio.wait_for(probe(), timeout=timeout)
    except FileStoreRefused as exc:  # reachable, but no such bucket or keys refused
        return f"down: {exc}"
    except Exception as exc:  # noqa: BLE001 - report any failure
        return f"down: {type(exc).__name__}"
    return "down: unreachable" if answer is False else "ok"


async def healthz(request: Request) -> HTTPResponse:
    """Database, Redis and file-store reachability; 503 when any is down."""
    ctx = request.app.ctx
    checks = {
        "database": await _check(lambda: connections.get("default").execute_query("SELECT 1"), 3),
        "redis": await _check(ctx.redis.ping, 2),
        "files": await _check(ctx.files.ping, 3),
    }
    healthy = all(v == "ok" for v in checks.values())
    return ok(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )
