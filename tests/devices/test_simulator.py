"""``realname simulate`` against a real ``realname serve``: punches arrive and are stored."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from models import Device, Punch, PunchStatus
from tests.devices.durability import ROOT, Server, server_env
from tests.devices.helpers import make_device
from tests.factories import make_member, make_project
from tests.integrations.conftest import free_port


async def test_simulator_sends_punches_that_are_stored(settings, redis_handle, database):
    world = await make_project()
    members = [await make_member(world) for _ in range(3)]
    dev = await make_device(world)
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="realname-simulate-"))
    redis_url = settings.redis_url or f"unix://{redis_handle.socket_path}"
    server = Server("serve", port, server_env(settings, redis_url), log_dir)
    try:
        server.start()
        await server.wait_ready()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "realname.cli", "simulate",
            "--url", f"http://127.0.0.1:{port}", "--sn", dev.sn, "--secret", dev.secret,
            "--punches", "6", "--rounds", "1",
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
        assert proc.returncode == 0, err.decode()[-2000:]
        text = out.decode()
        assert "persons: 3" in text and "accepted" in text
    finally:
        server.kill()
        shutil.rmtree(log_dir, ignore_errors=True)
    device = await Device.get(sn=dev.sn)
    stored = await Punch.filter(device_id=device.id, status=PunchStatus.ACCEPTED)
    assert len(stored) == 6
    assert {p.member_id for p in stored} <= {m.id for m in members}  # type: ignore[attr-defined]
    assert device.last_attendance_at is not None
