"""Group commit of small inserts: callers that wait together share one statement, yet a punch
id already waiting in the group is held back for the next one, so exactly one caller is told it
inserted the punch (the others: it was there already). Without that guard every caller whose
copy rode in the same statement would be answered "accepted" for one stored row."""

from __future__ import annotations

import asyncio
import datetime as dt

from devices.native import parse_native
from models import Device, Punch
from services import attendance, ingest
from tests.devices.helpers import make_device, punch
from tests.factories import make_member, make_project


async def _rows(device: Device, pid: str, person_id: int) -> list[list]:
    p = parse_native(punch(pid, person_id))
    (p.member,) = await ingest._members(device.project_id, {person_id}, set())  # type: ignore[attr-defined]
    p.resolved_person_id = person_id
    p.day = attendance.local_day(p.time or dt.datetime.now(dt.UTC), attendance.zone(None))
    now = dt.datetime.now(dt.UTC)
    return [ingest._row(device.id, device.project_id, p, now, None, "device")]  # type: ignore[attr-defined]


async def test_one_caller_inserts_a_punch_sent_twice_into_one_group(database):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world)
    device = await Device.get(sn=dev.sn)
    same = await _rows(device, "gc-1", member.person_id)
    other = await _rows(device, "gc-2", member.person_id)
    # All four callers queue before the group's flush runs: one group is formed from them.
    answers = await asyncio.gather(
        ingest.insert_punches(same),
        ingest.insert_punches([list(same[0])]),  # a retry of the same punch, concurrently
        ingest.insert_punches(other),
        ingest.insert_punches([list(same[0])]),
    )
    assert answers[2] == {"gc-2"}
    assert sorted(len(answers[i]) for i in (0, 1, 3)) == [0, 0, 1]  # inserted by exactly one
    keys = await Punch.filter(device_id=device.id).values_list("device_punch_id", flat=True)
    assert sorted(keys) == ["gc-1", "gc-2"]


async def test_concurrent_member_lookups_share_a_query_and_keep_members_apart(database):
    """Cache misses of one project in the same tick share one member query; each caller gets
    its own members only, and a member added after a lookup is found by the next one."""
    world = await make_project()
    members = [await make_member(world) for _ in range(4)]
    pid = world.project.id
    ingest._member_cache.clear()  # type: ignore[attr-defined]
    found = await asyncio.gather(
        *[ingest._cached_members(pid, {m.person_id}, set()) for m in members],  # type: ignore[attr-defined]
        ingest._cached_members(pid, {members[0].person_id, members[1].person_id}, set()),  # type: ignore[attr-defined]
    )
    assert [[r.id for r in rows] for rows in found[:4]] == [[m.id] for m in members]
    assert sorted(r.id for r in found[4]) == sorted([members[0].id, members[1].id])
    late = await make_member(world)
    (row,) = await ingest._cached_members(pid, {late.person_id}, set())  # type: ignore[attr-defined]
    assert row.id == late.id
