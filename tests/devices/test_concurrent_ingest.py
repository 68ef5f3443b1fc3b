"""Concurrent batch uploads on the real HTTP path: no 5xx (no deadlock between the punch
inserts, their pending marks and the settlement), and every touched day settled afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

from models import DailyAttendance, Punch, PunchStatus
from models.settlement import PendingSettlement
from services import attendance
from tests.devices.helpers import call, make_device, punch
from tests.factories import make_member, make_project, site_today

CST = dt.timezone(dt.timedelta(hours=8))


async def test_concurrent_batches_never_fail_and_all_days_settle(client):
    world = await make_project()
    members = [
        await make_member(world, entry_date=site_today() - dt.timedelta(days=20)) for _ in range(25)
    ]
    devices = [await make_device(world) for _ in range(6)]
    today = dt.datetime.now(CST).date()
    days = [today - dt.timedelta(days=d) for d in range(1, 9)]
    rng = random.Random(20261130)

    def batch(dev_no: int, round_no: int) -> list[dict]:
        items = []
        for k in range(200):
            member = rng.choice(members)
            day = rng.choice(days)
            when = dt.datetime.combine(day, dt.time(6 + k % 12, rng.randint(0, 59)), CST)
            items.append(
                punch(
                    f"r{round_no}-{k}",
                    member.person_id,
                    when=when,
                    direction=rng.choice(("in", "out")),
                )
            )
        rng.shuffle(items)
        return items

    statuses: list[int] = []
    for round_no in range(6):
        replies = await asyncio.gather(
            *(
                call(
                    client,
                    dev,
                    "POST",
                    "/device/v1/punches",
                    {"punches": batch(n, round_no)},
                )
                for n, dev in enumerate(devices)
            )
        )
        statuses += [r.status_code for r in replies]
        for r in replies:
            if r.status_code == 200:
                assert {x["status"] for x in r.json()["results"]} == {"accepted"}
    assert statuses == [200] * len(statuses), [s for s in statuses if s != 200]

    await attendance.wait_pending()
    member_ids = [m.id for m in members]
    assert not await PendingSettlement.filter(member_id__in=member_ids).exists()
    touched = set(
        await Punch.filter(member_id__in=member_ids, status=PunchStatus.ACCEPTED).values_list(
            "member_id", "local_date"
        )
    )
    settled = {
        (m, d): n
        for m, d, n in await DailyAttendance.filter(member_id__in=member_ids).values_list(
            "member_id", "day", "punch_count"
        )
    }
    assert set(settled) == touched
    counts = {}
    for m, d in await Punch.filter(
        member_id__in=member_ids, status=PunchStatus.ACCEPTED
    ).values_list("member_id", "local_date"):
        counts[(m, d)] = counts.get((m, d), 0) + 1
    assert settled == counts
