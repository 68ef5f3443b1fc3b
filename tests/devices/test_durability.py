"""Durability: punches sent with retries while the real server is SIGKILLed and restarted.

Every punch the server acknowledged (a result in a 200 reply) must be stored exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from models import Punch
from services import devices as svc
from tests.devices.helpers import make_device, punch
from tests.factories import make_member, make_project
from tests.integrations.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _start(settings, redis_handle, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url or f"unix://{redis_handle.socket_path}",
            "ENV": "test",
            "STORAGE_URL": settings.storage_url,
            "EMBEDDED_REDIS_DIR": settings.embedded_redis_dir,
            "LOG_LEVEL": "WARNING",
            "WECHAT_API_BASE": settings.wechat_api_base,
            "IDAUTH_BASE_URL": settings.idauth_base_url,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "realname.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the server's own process group only
    except ProcessLookupError:
        pass
    proc.wait()


async def test_acknowledged_punches_survive_sigkill(settings, redis_handle, database, redis):
    world = await make_project()
    dev = await make_device(world)
    members = [await make_member(world) for _ in range(5)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(settings, redis_handle, port)
    await _wait_listening(port, proc)
    acknowledged: dict[str, str] = {}
    sent_ids: set[str] = set()
    batches = [
        [punch(f"k{b}-{i}", random.choice(members).person_id) for i in range(25)] for b in range(24)
    ]
    stop = asyncio.Event()

    async def sender() -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            for batch in batches:
                body = json.dumps({"punches": batch}).encode()
                sent_ids.update(p["id"] for p in batch)
                while True:  # the device retries the whole request until it gets a 200
                    h = svc.signed_headers(dev.sn, dev.secret, "POST", "/device/v1/punches", body)
                    h["Content-Type"] = "application/json"
                    try:
                        r = await client.post(f"{base}/device/v1/punches", content=body, headers=h)
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
                        continue
                    if r.status_code == 200:
                        for res in r.json()["results"]:
                            assert res["status"] in ("accepted", "duplicate"), res
                            acknowledged[res["id"]] = res["status"]
                        break
                    await asyncio.sleep(0.1)
        stop.set()

    async def killer() -> int:
        nonlocal proc
        kills = 0
        while not stop.is_set() and kills < 4:
            await asyncio.sleep(random.uniform(0.4, 1.2))
            if stop.is_set():
                break
            _kill(proc)
            kills += 1
            proc = _start(settings, redis_handle, port)
            await _wait_listening(port, proc)
        return kills

    try:
        _, kills = await asyncio.wait_for(asyncio.gather(sender(), killer()), timeout=90)
    finally:
        _kill(proc)
    assert kills >= 3
    assert set(acknowledged) == sent_ids
    rows = await Punch.filter(device__sn=dev.sn).values_list("device_punch_id", "status")
    stored = [k for k, _ in rows]
    assert len(stored) == len(set(stored))  # never a second row
    assert set(stored) == sent_ids  # every acknowledged punch is stored
    assert {s for _, s in rows} == {"accepted"}
