"""Finding persons enrolled by a collection machine by ID number (rule 6)."""

from __future__ import annotations

from typing import Any

from models import Person, ProjectMember, WorkStatus
from models.people import WORK_STATUS_LABELS
from realname import error_codes as E
from realname.errors import NotFound, ValidationError
from services import pii
from services.identity import ProjectAccess
from services.labour.scope import show_pii
from services.labour.shaping import person_fields

ENROL_FIRST = "请先使用采集设备完成实名制采集"


# --- persons (ID-number search, rule 6) ----------------------------------------------------------


async def find_enrolled_person(id_number: Any, field: str = "id_number") -> Person:
    """The person with this exact ID number, who must have been enrolled (rule 6)."""
    number = pii.validate_id_number(id_number, field=field)
    person = await Person.get_or_none(id_number_bidx=pii.cipher().blind_index("id", number))
    if person is None:
        raise NotFound(
            f"未找到该身份证号的人员，{ENROL_FIRST}", code=E.PERSON_NOT_ENROLLED.code, field=field
        )
    if person.enrolled_at is None:
        raise ValidationError(
            f"该人员尚未完成实名制采集，{ENROL_FIRST}", code=E.PERSON_NOT_ENROLLED.code, field=field
        )
    return person


async def search_person(access: ProjectAccess, id_number: Any) -> dict[str, Any]:
    """Find an enrolled person by exact ID number, with their standing on this project."""
    person = await find_enrolled_person(id_number)
    member = await ProjectMember.get_or_none(project_id=access.project.id, person_id=person.id)
    # Rule 11: before the person is on this project (for a subcontractor: in its own unit, its
    # row scope) the caller sees the name and masked data only.
    mine = member is not None and access.sees(member.unit_id)
    data = person_fields(person, show_pii(access) and mine)
    data["membership"] = None
    if member is not None:
        status = WorkStatus(member.work_status)
        data["membership"] = {
            "member_id": member.id,
            "person_type": str(member.person_type),
            "work_status": status.value,
            "work_status_label": WORK_STATUS_LABELS[status],
        }
    return data
