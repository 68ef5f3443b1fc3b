"""Health endpoint: 200 when the database, Redis and the file store answer, else 503."""

from tests.suite import another_app


async def test_health_ok(client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok", "files": "ok"}


async def test_health_redis_down(settings, database):
    dead = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with another_app(dead, "realname_dead_redis") as c:
        r = await c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["checks"]["redis"].startswith("down")
    assert r.json()["checks"]["database"] == "ok"


async def test_unknown_route_is_json(client):
    r = await client.get("/admin/v1/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
