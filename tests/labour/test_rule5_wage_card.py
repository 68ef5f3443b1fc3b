"""Rule 5 from both sides: a labour member the console lists as incomplete (``incomplete_fields``)
is exactly a member whose punches the device path rejects with ``missing_wage_card``.

Each case leaves out one field (the 联行号 alone used to pass the punch check while the console
already asked for it)."""

from __future__ import annotations

from typing import Any

import pytest

from models import Punch, PunchStatus
from tests.devices.helpers import call, make_device, punch
from tests.factories import make_member, make_project
from tests.labour.helpers import headers_for

# field of the reply's incomplete_fields → the column that holds it, emptied
MISSING: dict[str, tuple[str, Any]] = {
    "work_type": ("work_type", ""),
    "bank_name": ("bank_name", ""),
    "bank_card": ("bank_card_enc", None),
    "bank_branch_code": ("bank_branch_code", ""),
}


async def _status(client: Any, redis: Any, world: Any, member: Any) -> tuple[list[str], tuple]:
    """(the admin side's incomplete_fields, the device side's result for one punch)."""
    h = await headers_for(redis, world, "gc")
    r = await client.get(f"/admin/v1/projects/{world.project.code}/members/{member.id}", headers=h)
    assert r.status_code == 200, r.text
    dev = await make_device(world)
    r2 = await call(
        client, dev, "POST", "/device/v1/punches", {"punches": [punch("w1", member.person_id)]}
    )
    assert r2.status_code == 200, r2.text
    result = r2.json()["results"][0]
    return r.json()["incomplete_fields"], (result["status"], result.get("reason"))


@pytest.mark.parametrize("field", list(MISSING))
async def test_one_missing_field_is_incomplete_and_blocks_the_punch(
    client: Any, redis: Any, field: str
) -> None:
    world = await make_project()
    member = await make_member(world)
    column, empty = MISSING[field]
    setattr(member, column, empty)
    await member.save(update_fields=[column])
    incomplete, result = await _status(client, redis, world, member)
    assert incomplete == [field]
    assert result == ("rejected", "missing_wage_card")
    stored = await Punch.get(member_id=member.id)
    assert (stored.status, stored.reason) == (PunchStatus.REJECTED, "missing_wage_card")


async def test_complete_member_is_complete_and_punches(client: Any, redis: Any) -> None:
    """The control: every field present → nothing listed, the punch is accepted."""
    world = await make_project()
    member = await make_member(world)
    assert await _status(client, redis, world, member) == ([], ("accepted", None))


async def test_management_member_never_needs_a_wage_card(client: Any, redis: Any) -> None:
    """Rule 5 is for labour: a manager without a card is complete and may punch."""
    world = await make_project()
    member = await make_member(world, person_type="management", post="labour_officer")
    member.bank_branch_code = ""
    member.bank_card_enc = None
    await member.save(update_fields=["bank_branch_code", "bank_card_enc"])
    assert await _status(client, redis, world, member) == ([], ("accepted", None))
