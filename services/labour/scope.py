"""The caller's unit scope: a subcontractor sees and manages only its own units' teams and
people, the general contractor manages the whole site, the builder and the supervisor see the
whole site but manage only their own units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from models import KeyPersonnel, ParticipatingUnit, Person, Post, UnitRole
from realname.errors import Forbidden, NotFound
from services.identity import VIEW_PII, ProjectAccess

CONSTRUCTION_ROLES = {UnitRole.GENERAL_CONTRACTOR, UnitRole.SPECIALTY_SUB, UnitRole.LABOUR_SUB}
SITE_WIDE_VIEW_ROLES = {UnitRole.GENERAL_CONTRACTOR, UnitRole.BUILDER, UnitRole.SUPERVISOR}


# --- scoping -------------------------------------------------------------------------------------


@dataclass
class UnitScope:
    """Which participating units the caller may see and manage (None: all units of the project)."""

    visible: set[int] | None
    managed: set[int] | None
    can_manage: bool

    def sees(self, unit_id: int) -> bool:
        """Whether records of this unit are visible to the caller."""
        return self.visible is None or unit_id in self.visible

    def check_visible(self, unit_id: int, what: str = "记录") -> None:
        """Raise NotFound for a record of a unit the caller cannot see (no probing)."""
        if not self.sees(unit_id):
            raise NotFound(f"{what}不存在", code="not_found")

    def check_manages(self, unit_id: int) -> None:
        """Raise Forbidden unless the caller may change records of this unit."""
        if not self.can_manage or (self.managed is not None and unit_id not in self.managed):
            raise Forbidden("您只能管理本单位的班组和人员", code="unit_forbidden")


async def caller_unit_roles(access: ProjectAccess) -> set[str]:
    """The responsibility roles the caller holds on the project (through units or the permit)."""
    roles = set(access.unit_roles)
    if access.unit_ids:
        roles |= {
            str(r)
            for r in await ParticipatingUnit.filter(id__in=list(access.unit_ids)).values_list(
                "role", flat=True
            )
        }
    if access.principal.kind == "person" and access.principal.person_id:
        person = await Person.get_or_none(id=access.principal.person_id)
        if person is not None:
            named = await KeyPersonnel.filter(
                project_id=access.project.id, id_number_bidx=person.id_number_bidx, ended_at=None
            )
            for kp in named:
                roles.add(
                    UnitRole.SUPERVISOR
                    if kp.role == Post.CHIEF_SUPERVISOR
                    else UnitRole.GENERAL_CONTRACTOR
                )
    return roles


async def unit_scope(access: ProjectAccess) -> UnitScope:
    """The caller's unit scope on the project (see the module docstring)."""
    can_manage = access.can("manage")
    if access.principal.kind in ("operator", "regulator"):
        return UnitScope(None, None, can_manage)
    roles = await caller_unit_roles(access)
    own = set(access.unit_ids)
    if access.principal.kind == "person" and roles & {
        UnitRole.GENERAL_CONTRACTOR,
        UnitRole.SUPERVISOR,
    }:
        # Permit-named PM / chief supervisor: their own units are the project's units of that role.
        wanted = [r for r in (UnitRole.GENERAL_CONTRACTOR, UnitRole.SUPERVISOR) if r in roles]
        own |= set(
            cast(
                list[int],
                await ParticipatingUnit.filter(
                    project_id=access.project.id, role__in=wanted
                ).values_list("id", flat=True),
            )
        )
    visible = None if roles & SITE_WIDE_VIEW_ROLES else own
    managed = None if UnitRole.GENERAL_CONTRACTOR in roles else own
    return UnitScope(visible, managed, can_manage)


def show_pii(access: ProjectAccess) -> bool:
    """Whether replies may carry full ID numbers, phones and bank cards."""
    return access.can(VIEW_PII)
