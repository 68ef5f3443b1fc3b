"""The S3 file store against a real S3 HTTP endpoint (moto's server, in its own process): what a
production deployment with ``STORAGE_URL=s3://bucket/prefix`` does, which the rest of the suite,
on the local file store, never exercises."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from config.settings import Settings
from models import Punch
from realname.storage import FileStoreRefused, S3FileStore, make_file_store
from tests.devices.helpers import JPEG, call, device_world
from tests.factories import auth, enterprise_token
from tests.servers import ROOT, free_port, listening, stop, wait_ready
from tests.suite import another_app, uid

BUCKET = "realname-files"
KEYS = {"s3_access_key": "test-key", "s3_secret_key": "test-secret", "s3_region": "us-east-1"}


def _start(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(proc, listening(port), what="moto S3 server", seconds=60, interval=0.1)
    return proc


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on a free port, with the platform's bucket."""
    port = free_port()
    proc = _start(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        plain_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        stop(proc)


def s3_settings(settings: Settings, endpoint: str, prefix: str) -> Settings:
    return settings.model_copy(
        update={"storage_url": f"s3://{BUCKET}/{prefix}", "s3_endpoint_url": endpoint, **KEYS}
    )


def plain_client(endpoint: str) -> Any:
    """A plain S3 client of the server (not the platform's store)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["s3_access_key"],
        aws_secret_access_key=KEYS["s3_secret_key"],
        region_name=KEYS["s3_region"],
    )


def objects(endpoint: str, prefix: str) -> dict[str, bytes]:
    """What the bucket holds under `prefix`, read with a plain S3 client."""
    raw = plain_client(endpoint)
    listed = raw.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])
    return {o["Key"]: raw.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


async def test_store_round_trip(settings, s3_endpoint):
    """put → the object under the configured prefix, with its content type; get; delete; a
    missing key is FileNotFoundError (the callers' 404), as on the local store."""
    prefix = uid("t")
    store = make_file_store(s3_settings(settings, s3_endpoint, f"/{prefix}/"))
    assert isinstance(store, S3FileStore)
    assert await store.ping()
    key = await store.put(
        b"%PDF-1.4 contract", prefix="contracts", suffix=".pdf", content_type="application/pdf"
    )
    assert key.startswith("contracts/") and key.endswith(".pdf")
    assert objects(s3_endpoint, prefix) == {f"{prefix}/{key}": b"%PDF-1.4 contract"}
    head = store.client.head_object(Bucket=BUCKET, Key=f"{prefix}/{key}")
    assert head["ContentType"] == "application/pdf"
    assert await store.get(key) == b"%PDF-1.4 contract"
    await store.delete(key)
    assert objects(s3_endpoint, prefix) == {}
    with pytest.raises(FileNotFoundError):
        await store.get(key)
    await store.delete(key)  # deleting what is gone is fine


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (a store behind a broken link)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_store_that_does_not_answer(settings, database, redis_handle, silent_endpoint):
    """ping gives up within /healthz's bound (botocore's defaults wait 60 s, five times), and
    /healthz answers 503 naming the file store, the database and Redis still ok."""
    conf = s3_settings(settings, silent_endpoint, "x")
    assert await asyncio.wait_for(make_file_store(conf).ping(), timeout=15) is False
    async with another_app(conf, "realname_s3_silent", redis_handle) as c:
        r = await asyncio.wait_for(c.get("/healthz"), timeout=15)
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert (checks["database"], checks["redis"]) == ("ok", "ok")
    assert checks["files"].startswith("down")


async def test_refused_store_raises(settings):
    """Nobody listening: a put raises (the request fails and the terminal retries its batch;
    nothing is acknowledged without its photo)."""
    dead = make_file_store(s3_settings(settings, f"http://127.0.0.1:{free_port()}", "x"))
    assert await dead.ping() is False
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore's connection error
        await asyncio.wait_for(
            dead.put(b"x", prefix="punches", suffix=".jpg", content_type="image/jpeg"), timeout=60
        )


async def test_platform_on_s3(settings, database, redis_handle, redis, s3_endpoint):
    """The platform with STORAGE_URL=s3://…: a terminal's punch photo lands in the bucket and
    the labour officer's photo link serves it; /healthz checks the store."""
    prefix = uid("p")
    conf = s3_settings(settings, s3_endpoint, prefix)
    async with another_app(conf, "realname_s3", redis_handle) as c:
        health = (await c.get("/healthz")).json()
        assert health["checks"] == {"database": "ok", "redis": "ok", "files": "ok"}
        world, dev, member = await device_world()
        now = dt.datetime.now(dt.UTC).isoformat()
        punch: dict[str, Any] = {
            "id": uid("s3"),
            "person_id": member.person_id,  # type: ignore[attr-defined]
            "time": now,
            "direction": "in",
            "liveness": True,
            "photo": base64.b64encode(JPEG).decode(),
        }
        r = await call(c, dev, "POST", "/device/v1/punches", {"punches": [punch]})
        assert r.json()["results"][0]["status"] == "accepted", r.text
        stored = await Punch.get(device__sn=dev.sn, device_punch_id=punch["id"])
        assert objects(s3_endpoint, prefix) == {f"{prefix}/{stored.photo_key}": JPEG}
        token = await enterprise_token(redis, world.enterprises["gc"])
        photo = await c.get(
            f"/admin/v1/projects/{world.project.code}/attendance/punches/{stored.id}/photo",
            headers=auth(token),
        )
        assert photo.status_code == 200 and photo.content == JPEG


async def test_missing_bucket_is_named_by_healthz(settings, database, redis_handle, s3_endpoint):
    """A store that answers but has no such bucket (an operator who has not created it yet):
    /healthz says so instead of "unreachable", which would send them checking the network."""
    conf = s3_settings(settings, s3_endpoint, "x").model_copy(
        update={"storage_url": "s3://no-such-bucket/x"}
    )
    with pytest.raises(FileStoreRefused, match="bucket no-such-bucket does not exist"):
        await make_file_store(conf).ping()
    async with another_app(conf, "realname_s3_no_bucket", redis_handle) as c:
        r = await c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "files": "down: bucket no-such-bucket does not exist",
    }


@pytest.fixture
def refusing_endpoint() -> Iterator[str]:
    """An S3 endpoint that answers 403 to everything (keys it does not accept)."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_refused_keys_are_named(settings, refusing_endpoint):
    """403 on the bucket: the keys are wrong (or lack the right), which ping says."""
    store = make_file_store(s3_settings(settings, refusing_endpoint, "x"))
    with pytest.raises(FileStoreRefused, match="access to bucket realname-files denied"):
        await store.ping()
