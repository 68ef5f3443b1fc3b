"""Punch photos in a batch: stored a few at a time (an S3 store is a network round trip per
photo), each punch pointing at its own photo, and a batch whose photo could not be stored is not
acknowledged."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from typing import Any

import pytest

from devices.native import parse_native
from models import Device, Punch
from services import ingest
from tests.devices.helpers import device_world, punch


class SlowStore:
    """A file store with a network's latency (each put takes a while), counting how many puts
    run at once; `fail_at` makes that put fail (the store went away mid-batch)."""

    def __init__(self, fail_at: int = 0) -> None:
        self.files: dict[str, bytes] = {}
        self.running = self.most = self.calls = 0
        self.fail_at = fail_at

    async def put(self, data: bytes, *, prefix: str, suffix: str, content_type: str) -> str:
        self.calls += 1
        if self.calls == self.fail_at:
            raise ConnectionError("store unreachable")
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.02)
        self.running -= 1
        key = f"{prefix}/{len(self.files)}{suffix}"
        self.files[key] = data
        return key


async def test_batch_photos_are_stored_a_few_at_a_time(database):
    """A handset's backlog with a photo per punch: the photos go to the store concurrently,
    at most ingest.PHOTO_PUTS at once, each punch pointing at its own photo. A store failing
    mid-batch fails the whole batch (nothing stored, nothing acknowledged); the retry stores
    every punch once, with its photo."""
    world, dev, member = await device_world()
    device = await Device.get(sn=dev.sn)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    photos = [b"\xff\xd8\xff\xe0" + bytes([i]) * 40 for i in range(20)]
    person_id: int = member.person_id  # type: ignore[attr-defined]

    def backlog() -> list[Any]:
        return [
            parse_native(
                punch(
                    f"ph{i}",
                    person_id,
                    when=when + dt.timedelta(seconds=i),
                    photo=base64.b64encode(photos[i]).decode(),
                )
            )
            for i in range(20)
        ]

    with pytest.raises(ConnectionError):
        await ingest.ingest(device, world.project, backlog(), SlowStore(fail_at=5))
    assert await Punch.filter(device_id=device.id).count() == 0
    store = SlowStore()
    batch = backlog()
    results = await ingest.ingest(device, world.project, batch, store)
    assert [r["status"] for r in results] == ["accepted"] * 20
    assert 1 < store.most <= ingest.PHOTO_PUTS, store.most
    rows = await Punch.filter(device_id=device.id).values("device_punch_id", "photo_key")
    assert len(rows) == 20
    for row in rows:
        i = int(row["device_punch_id"][2:])
        assert store.files[row["photo_key"]] == photos[i], row
