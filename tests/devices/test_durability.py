"""Durability: the real server SIGKILLed again and again while terminals send punches.

Each kill comes only after the server has acknowledged new punches since its last start and
while requests are in flight; the terminals re-send what was not acknowledged (same punch ids).
At the end every acknowledged punch is stored exactly once and every accepted punch's day is
settled. Runs on the suite's engine (SQLite by default, PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from tests.devices.durability import (
    ENTRY,
    Load,
    Server,
    server_env,
    wait_for_kill_moment,
)
from tests.devices.helpers import make_device
from tests.factories import make_member, make_project
from tests.integrations.conftest import free_port

KILLS = 4
ACKS_BEFORE_KILL = 40  # new acknowledgements since the last (re)start before each kill


async def test_acknowledged_punches_survive_sigkill_mid_traffic(
    settings, redis_handle, database, redis
):
    world = await make_project()
    devices = [await make_device(world) for _ in range(4)]
    members = [await make_member(world, entry_date=ENTRY) for _ in range(8)]
    log_dir = Path(tempfile.mkdtemp(prefix="realname-durability-"))
    redis_url = settings.redis_url or f"unix://{redis_handle.socket_path}"
    server = Server("serve", free_port(), server_env(settings, redis_url), log_dir)
    load = Load(f"http://127.0.0.1:{server.port}", devices, [m.person_id for m in members])
    moments: list[tuple[int, int]] = []
    try:
        server.start()
        await server.wait_ready()
        started = time.monotonic()
        load.run()
        for _ in range(KILLS):
            acks, in_flight = await wait_for_kill_moment(load, started, ACKS_BEFORE_KILL)
            server.kill()
            moments.append((acks, in_flight))
            server.start()
            await server.wait_ready()
            started = time.monotonic()
        # After the last restart the server acknowledges again, then the terminals finish the
        # batch in hand (retrying until acknowledged) and stop.
        await wait_for_kill_moment(load, started, ACKS_BEFORE_KILL)
        result = await load.finish([m.id for m in members], world.project.timezone)
    finally:
        load.abandon()
        server.kill()
        shutil.rmtree(log_dir, ignore_errors=True)

    assert len(moments) == KILLS
    for acks, in_flight in moments:
        assert acks >= ACKS_BEFORE_KILL and in_flight >= 1  # killed mid-traffic, after acks
    assert not load.bad_results
    assert not load.early_duplicates  # a punch never sent before is never called a duplicate
    assert result.acknowledged == result.sent  # every punch sent was acknowledged in the end
    assert result.missing == []  # acknowledged punches missing: 0
    assert result.doubled == []  # stored twice: 0
    assert result.unsettled == [] and result.wrong_days == [] and result.pending == 0
