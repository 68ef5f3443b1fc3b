"""SQLite: the punch pipeline's member lookup reads on the client's second connection, so it
does not queue behind a write transaction (a group insert and its COMMIT) on the first."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from models import Project
from services import ingest
from tests.factories import make_member, make_project, site_today


async def test_member_lookup_does_not_wait_for_a_write_transaction(database):
    if connections.get("default").capabilities.dialect != "sqlite":
        pytest.skip("SQLite's one-writer connection")
    world = await make_project()
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction():
            await Project.filter(id=world.project.id).update(name="改名中")
            entered.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await entered.wait()
    try:
        rows = await asyncio.wait_for(
            ingest._members(world.project.id, {member.person_id}, set()), timeout=5
        )
        assert [r.id for r in rows] == [member.id]
    finally:
        release.set()
        await holder
    # A member committed a moment ago is found at once (the reader sees every commit).
    other = await make_member(world, entry_date=site_today())
    rows = await ingest._members(world.project.id, {other.person_id}, set())
    assert [r.id for r in rows] == [other.id]
