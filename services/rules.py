"""Rules that decide whether a member's punch counts (rules 4 and 5), in one place.

The device ingest pipeline and supplementary attendance call `punch_block_reasons`. Rule 5's
fields (work type, bank, card number, bank branch code) are listed by one function,
``labour.wage_card_incomplete``: the member reply's ``incomplete_fields`` and the punch check
below both read it, so a member the console shows as incomplete can never punch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from models import PersonType, ProjectMember, WorkStatus
from services import contracts, labour

MISSING_WAGE_CARD = "missing_wage_card"
CONTRACT_RED = "contract_red"
NOT_ON_PROJECT = "not_on_project"


def wage_card_block(member: ProjectMember) -> str | None:
    """Rule 5: a labour member without work type or a complete wage card (bank, card number,
    bank branch code) cannot punch."""
    return MISSING_WAGE_CARD if labour.wage_card_incomplete(member) else None


async def punch_block_reasons(members: Iterable[ProjectMember], on: dt.date) -> dict[int, str]:
    """For each member whose punch on day `on` must be rejected, the reason code.

    A member row that carries ``has_contract`` (the punch pipeline reads it with the member)
    needs no contract query for rule 4; rows without it (ORM members) are looked up.
    """
    members = list(members)
    reasons: dict[int, str] = {}
    for m in members:
        if m.work_status != WorkStatus.ACTIVE:
            reasons[m.id] = NOT_ON_PROJECT
            continue
        reason = wage_card_block(m)
        if reason:
            reasons[m.id] = reason
    unknown = []
    for m in members:
        if m.id in reasons:
            continue
        has_contract = getattr(m, "has_contract", None)
        if has_contract is None:
            unknown.append(m)
        elif (
            m.person_type == PersonType.LABOUR
            and contracts.warning_level(m.entry_date, has_contract, on) == contracts.RED
        ):
            reasons[m.id] = CONTRACT_RED
    for member_id in await contracts.red_member_ids(unknown, on):
        reasons[member_id] = CONTRACT_RED
    return reasons
