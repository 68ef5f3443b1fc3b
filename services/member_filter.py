"""The statistics filter (打卡统计 / 出勤时长统计 and their exports): which members a page shows.

One list of conditions — the project, the caller's row scope (`ProjectAccess`), then person type,
work status, unit, team and the name / ID number / phone search — rendered for the ORM (the
exports iterate a queryset) and for raw SQL (the pages are one statement), so the two paths
cannot disagree about who is counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise.queryset import QuerySet

from models import ProjectMember
from services import pii
from services.scope import Cond, ProjectAccess, to_q, to_sql

_ID_RE = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
_PHONE_RE = re.compile(r"^1\d{10}$")


@dataclass(frozen=True)
class StatsFilter:
    """The filters of 打卡统计 / 出勤时长统计 (all optional)."""

    person_type: str | None = None
    work_status: str | None = None
    unit_id: int | None = None
    team_id: int | None = None
    q: str | None = None  # a name (substring), an ID number or a phone number (exact)

    def conditions(self, access: ProjectAccess) -> list[Cond]:
        """The member conditions, for the ORM (from ProjectMember) and for SQL (``m`` the
        project_member row, ``p`` its person)."""
        conds = [Cond("project_id", "m.project_id", access.project.id)]
        scope = access.unit_condition("unit_id", "m.unit_id")
        if scope is not None:
            conds.append(scope)
        for orm, column, value in (
            ("person_type", "m.person_type", self.person_type),
            ("work_status", "m.work_status", self.work_status),
            ("unit_id", "m.unit_id", self.unit_id),
            ("team_id", "m.team_id", self.team_id),
        ):
            if value:
                conds.append(Cond(orm, column, value))
        if self.q:
            if _ID_RE.match(self.q):
                bidx = pii.cipher().blind_index("id", self.q)
                conds.append(Cond("person__id_number_bidx", "p.id_number_bidx", bidx))
            elif _PHONE_RE.match(self.q):
                bidx = pii.cipher().blind_index("phone", self.q)
                conds.append(Cond("person__phone_bidx", "p.phone_bidx", bidx))
            else:
                conds.append(Cond("person__name", "p.name", self.q, "contains"))
        return conds

    def queryset(self, access: ProjectAccess) -> QuerySet[ProjectMember]:
        """The filtered members the caller sees, as a queryset."""
        return ProjectMember.filter(to_q(self.conditions(access)))

    def where(self, access: ProjectAccess) -> tuple[list[str], list[Any]]:
        """The same members as SQL conditions (to AND, ``{}`` placeholders) and parameters."""
        return to_sql(self.conditions(access))

    def audit_view(self) -> dict[str, Any]:
        """The filters for the audit log (the search text never: it may be an ID number)."""
        return {
            "person_type": self.person_type,
            "work_status": self.work_status,
            "unit": self.unit_id,
            "team": self.team_id,
            "q": bool(self.q),
        }
