"""Health endpoint: 200 when database and Redis answer, 503 when Redis is down."""

from sanic import Sanic

from realname.redis_conn import RedisHandle


async def test_health_ok(client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_health_redis_down(settings, database):
    import httpx

    from realname.app import create_app

    dead = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(
        dead, name="realname_dead_redis", manage_db=False, redis_handle=RedisHandle(dead)
    )
    app.asgi = True
    await app._startup()
    await app._server_event("init", "before")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["checks"]["redis"].startswith("down")
        assert r.json()["checks"]["database"] == "ok"
    finally:
        await app._server_event("shutdown", "before")
        Sanic._app_registry.pop("realname_dead_redis", None)


async def test_unknown_route_is_json(client):
    r = await client.get("/admin/v1/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
