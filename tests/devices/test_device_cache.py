"""The registry cache of signed requests: requests that miss an expired entry together share
one read of the device (and of its project) instead of each reading it."""

from __future__ import annotations

import asyncio

from services.devices import cache
from tests.devices.helpers import make_device
from tests.factories import make_project


async def test_concurrent_misses_share_one_read(database, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    reads: list[str] = []
    real_device, real_project = cache._read_device, cache._read_project

    async def read_device(sn):
        reads.append("device")
        return await real_device(sn)

    async def read_project(project_id):
        reads.append("project")
        return await real_project(project_id)

    monkeypatch.setattr(cache, "_read_device", read_device)
    monkeypatch.setattr(cache, "_read_project", read_project)
    cache.forget_all()
    auths = await asyncio.gather(*[cache.load_device(dev.sn) for _ in range(10)])
    assert reads == ["device"]
    assert all(a is auths[0] for a in auths) and auths[0].device.sn == dev.sn
    projects = await asyncio.gather(*[cache.project_of(auths[0].device) for _ in range(10)])
    assert reads == ["device", "project"]
    assert {p.id for p in projects} == {world.project.id}
    # A cached entry is not read again; a forgotten one is.
    await cache.load_device(dev.sn)
    cache.forget(dev.sn)
    assert (await cache.load_device(dev.sn)).device.sn == dev.sn
    assert reads == ["device", "project", "device"]
    # An unknown serial is None for every caller (and not cached).
    assert await asyncio.gather(cache.load_device("nope"), cache.load_device("nope")) == [
        None,
        None,
    ]
