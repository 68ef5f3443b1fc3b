"""Contracts: rule 4's warnings (yellow > 5 days, orange > 10, red > 30 without a contract)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from models import PersonType, ProjectMember
from models.contracts import ContractStatus, LabourContract

YELLOW, ORANGE, RED = "yellow", "orange", "red"
WARNING_LABELS = {YELLOW: "黄色预警", ORANGE: "橙色预警", RED: "红色预警"}


def warning_level(entry_date: dt.date, has_contract: bool, today: dt.date) -> str | None:
    """The warning for a member entered on `entry_date`, as of `today` (None: no warning)."""
    if has_contract:
        return None
    days = (today - entry_date).days
    if days > 30:
        return RED
    if days > 10:
        return ORANGE
    if days > 5:
        return YELLOW
    return None


async def members_with_contract(member_ids: Iterable[int]) -> set[int]:
    """Which of these members have a contract in force (uploaded, not terminated or deleted)."""
    ids = list(set(member_ids))
    if not ids:
        return set()
    rows = await LabourContract.filter(
        member_id__in=ids, status=ContractStatus.ACTIVE, deleted_at__isnull=True
    ).values_list("member_id", flat=True)
    return set(rows)


async def red_member_ids(members: Iterable[ProjectMember], on: dt.date) -> set[int]:
    """Labour members whose missing contract is at the red level on `on` (their punches blocked)."""
    candidates = [
        m for m in members
        if m.person_type == PersonType.LABOUR and warning_level(m.entry_date, False, on) == RED
    ]
    if not candidates:
        return set()
    signed = await members_with_contract(m.id for m in candidates)
    return {m.id for m in candidates if m.id not in signed}
