"""Which posts a person holds: the one answer every question about post personnel starts from.

A person holds a post on a project (岗位人员, rule 9) when

- an active management membership of theirs carries that post (post personnel added by the
  enterprise, the project manager or the chief supervisor), or
- the construction permit names them for it (项目经理 / 总监理工程师, ``KeyPersonnel``), and the
  appointment has not ended (a re-import naming someone else ends it).

Sign-in, project access, the project switcher, the mini-program's project list and the
supplementary-attendance approval chain all read :func:`held_posts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Subquery

from models import KeyPersonnel, Person, PersonType, ProjectMember, WorkStatus
from services.scope import KEY_POST_ROLES


@dataclass(frozen=True)
class HeldPost:
    """One post a person holds on one project."""

    project_id: int
    post: str  # a ``Post`` code
    on_permit: bool  # named on the construction permit (else added as post personnel)
    unit_id: int | None  # the participating unit of an added post; None for a permit post
    unit_role: str | None  # that unit's responsibility role; for a permit post, the role it
    # stands for (项目经理: the general contractor, 总监: the supervisor)


async def held_posts(person_id: int, project_id: int | None = None) -> list[HeldPost]:
    """The posts `person_id` holds now, on one project or on every project: added posts first,
    then the permit's, each group by project and post."""
    members = ProjectMember.filter(
        person_id=person_id, person_type=PersonType.MANAGEMENT, work_status=WorkStatus.ACTIVE
    ).exclude(post="")
    named = KeyPersonnel.filter(
        id_number_bidx__in=Subquery(Person.filter(id=person_id).values("id_number_bidx")),
        ended_at=None,
    )
    if project_id is not None:
        members = members.filter(project_id=project_id)
        named = named.filter(project_id=project_id)
    added = [
        HeldPost(project, post, False, unit_id, str(role))
        for project, post, unit_id, role in await members.values_list(
            "project_id", "post", "unit_id", "unit__role"
        )
    ]
    on_permit = [
        HeldPost(project, role, True, None, KEY_POST_ROLES.get(role))
        for project, role in await named.values_list("project_id", "role")
    ]
    return sorted(added, key=_order) + sorted(on_permit, key=_order)


def _order(held: HeldPost) -> tuple[int, str]:
    return held.project_id, held.post
