"""``realname simulate`` against a real ``realname serve``: punches arrive and are stored."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from models import Device, Punch, PunchStatus
from tests.devices.helpers import make_device
from tests.devices.test_durability import ROOT, _kill, _start, _wait_listening
from tests.factories import make_member, make_project
from tests.integrations.conftest import free_port


async def test_simulator_sends_punches_that_are_stored(settings, redis_handle, database):
    world = await make_project()
    members = [await make_member(world) for _ in range(3)]
    dev = await make_device(world)
    port = free_port()
    server = _start(settings, redis_handle, port)
    try:
        await _wait_listening(port, server)
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
        _kill(server)
    device = await Device.get(sn=dev.sn)
    stored = await Punch.filter(device_id=device.id, status=PunchStatus.ACCEPTED)
    assert len(stored) == 6
    assert {p.member_id for p in stored} <= {m.id for m in members}  # type: ignore[attr-defined]
    assert device.last_attendance_at is not None
