"""Persons, members and units as replies show them (personal data masked unless allowed)."""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet

from models import ParticipatingUnit, Person, PersonType, Post, ProjectMember, UnitRole, WorkStatus
from models.org import UNIT_ROLE_LABELS
from models.people import PERSON_TYPE_LABELS, POST_LABELS, WORK_STATUS_LABELS
from services import pii
from services.listing import paged

# --- shaping -------------------------------------------------------------------------------------


def person_fields(person: Person, full: bool) -> dict[str, Any]:
    """Name, gender and (masked unless `full`) ID number and phone of a person."""
    c = pii.cipher()
    return {
        "person_id": person.id,
        "name": person.name,
        "gender": person.gender,
        "id_number": c.decrypt(person.id_number_enc) if full else person.id_number_masked,
        "phone": (c.decrypt(person.phone_enc) or "") if full else person.phone_masked,
        "has_face": bool(person.face_key),
        "enrolled": person.enrolled_at is not None,
    }


def wage_card_incomplete(member: ProjectMember) -> list[str]:
    """Which wage-card / work-type fields a labour member still lacks (rule 5)."""
    if member.person_type != PersonType.LABOUR:
        return []
    missing = []
    if not member.work_type:
        missing.append("work_type")
    if not member.bank_name:
        missing.append("bank_name")
    if not member.bank_card_enc:
        missing.append("bank_card")
    if not member.bank_branch_code:
        missing.append("bank_branch_code")
    return missing


# What ``member_public`` reads besides the member row: load these with the members.
MEMBER_RELATIONS = ("person", "unit__enterprise", "team")


async def member_page(
    qs: QuerySet[ProjectMember], page: int, size: int, order: tuple[str, ...] = ("id",)
) -> list[ProjectMember]:
    """Page `page` (of `size` rows, in `order`) of the members in `qs`, ready for
    ``member_public``."""
    return list(await paged(qs, page, size, *order).prefetch_related(*MEMBER_RELATIONS))


def member_public(
    member: ProjectMember, full: bool, contract: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The reply shape of a project member (person, team, unit, wage card, contract state)."""
    person: Person = member.person  # type: ignore[assignment]
    unit = member.unit
    team = member.team
    ptype = PersonType(member.person_type)
    status = WorkStatus(member.work_status)
    data = {
        "id": member.id,
        **person_fields(person, full),
        "person_type": ptype.value,
        "person_type_label": PERSON_TYPE_LABELS[ptype],
        "unit_id": member.unit_id,
        "unit_name": unit.enterprise.name,
        "team_id": member.team_id,
        "team_name": team.name if team is not None else "",
        "work_type": member.work_type,
        "post": member.post,
        "post_label": post_label(member.post),
        "work_status": status.value,
        "work_status_label": WORK_STATUS_LABELS[status],
        "entry_date": member.entry_date,
        "exit_date": member.exit_date,
        "bank_name": member.bank_name,
        "bank_card": (pii.cipher().decrypt(member.bank_card_enc) or "")
        if full
        else member.bank_card_masked,
        "bank_branch_code": member.bank_branch_code,
        "migrated": member.migrated,
        "incomplete_fields": wage_card_incomplete(member),
    }
    if contract is not None:
        data.update(contract)
    return data


def post_label(post: str) -> str:
    """The Chinese label of a post code (unknown codes as they are)."""
    try:
        return POST_LABELS[Post(post)]
    except ValueError:
        return post


def unit_public(unit: ParticipatingUnit) -> dict[str, Any]:
    """A short view of a participating unit (for pickers and team rows)."""
    role = UnitRole(unit.role)
    return {
        "id": unit.id,
        "name": unit.enterprise.name,
        "role": role.value,
        "role_label": UNIT_ROLE_LABELS[role],
        "on_site": unit.on_site,
    }
