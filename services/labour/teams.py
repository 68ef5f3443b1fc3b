"""Teams (班组): listing, creating, changing, deleting, and the units teams may be put under."""

from __future__ import annotations

from typing import Any, cast

from models import ParticipatingUnit, ProjectMember, Team, UnitRole, WorkStatus
from realname import error_codes as E
from realname.errors import Conflict, NotFound, ValidationError, require
from services import localtime
from services.identity import ProjectAccess
from services.labour.scope import CONSTRUCTION_ROLES
from services.labour.shaping import unit_public
from services.listing import numbered, paged
from services.schemas.labour import TeamCreate, TeamUpdate

# --- teams ---------------------------------------------------------------------------------------


async def get_team(access: ProjectAccess, team_id: int) -> Team:
    """A visible, not deleted team of the project, or NotFound."""
    team = await Team.get_or_none(id=team_id, project_id=access.project.id, deleted_at=None)
    if team is None:
        raise NotFound("班组不存在", code=E.TEAM_NOT_FOUND.code)
    access.check_visible(team.unit_id, "班组")
    return team


async def active_counts(team_ids: list[int]) -> dict[int, int]:
    """Active members per team."""
    counts: dict[int, int] = {}
    if team_ids:
        tids = cast(
            list[int],
            await ProjectMember.filter(
                team_id__in=team_ids, work_status=WorkStatus.ACTIVE
            ).values_list("team_id", flat=True),
        )
        for tid in tids:
            counts[tid] = counts.get(tid, 0) + 1
    return counts


def team_public(team: Team, seq: int | None = None, active: int = 0) -> dict[str, Any]:
    """A team row: 序号, 班组名称, 班组状态, 班组长, 所属单位."""
    unit = team.unit
    return {
        "seq": seq,
        "id": team.id,
        "name": team.name,
        "on_site": team.on_site,
        "status_label": "在场" if team.on_site else "退场",
        "leader": team.leader,
        "unit_id": team.unit_id,
        "unit_name": unit.enterprise.name,
        "active_members": active,
    }


async def list_teams(
    access: ProjectAccess,
    *,
    name: str = "",
    on_site: bool | None = None,
    page: int = 1,
    size: int = 10,
) -> tuple[list[dict[str, Any]], int]:
    """The project's teams visible to the caller, with their 序号."""
    qs = access.rows(Team.filter(project_id=access.project.id, deleted_at=None))
    if name:
        qs = qs.filter(name__icontains=name)
    if on_site is not None:
        qs = qs.filter(on_site=on_site)
    total = await qs.count()
    teams = await paged(qs, page, size, "id").prefetch_related("unit__enterprise")
    counts = await active_counts([t.id for t in teams])
    rows = [team_public(t, seq, counts.get(t.id, 0)) for seq, t in numbered(teams, page, size)]
    return rows, total


async def _team_unit(access: ProjectAccess, unit_id: int | None) -> ParticipatingUnit:
    """The unit of a team: a construction unit of this project in the caller's scope."""
    uid = require(unit_id, "unit_id", "所属单位")
    unit = await ParticipatingUnit.get_or_none(id=uid, project_id=access.project.id)
    if unit is None or not access.sees(unit.id):
        raise ValidationError(
            "所属单位不是本项目的参建单位", code=E.UNIT_NOT_ON_PROJECT.code, field="unit_id"
        )
    if UnitRole(unit.role) not in CONSTRUCTION_ROLES:
        raise ValidationError(code=E.UNIT_ROLE_INVALID.code, field="unit_id")
    access.check_manages(unit.id)
    return unit


def _on_site(value: bool | str | None) -> bool:
    """在场 / 退场 as the schema lets them through (a bool or its Chinese / English word)."""
    if isinstance(value, bool):
        return value
    if value in ("在场", "on_site"):
        return True
    if value in ("退场", "off_site"):
        return False
    raise ValidationError("班组状态应为在场或退场", field="on_site")


async def _name_taken(project_id: int, name: str, exclude: int | None = None) -> bool:
    qs = Team.filter(project_id=project_id, name=name, deleted_at=None)
    if exclude:
        qs = qs.exclude(id=exclude)
    return await qs.exists()


async def create_team(access: ProjectAccess, body: TeamCreate) -> Team:
    """Create a team (新增班组) under a construction unit of the project."""
    unit = await _team_unit(access, body.unit_id)
    if await _name_taken(access.project.id, body.name):
        raise Conflict(code=E.TEAM_NAME_TAKEN.code, field="name")
    team = await Team.create(
        project_id=access.project.id,
        unit=unit,
        name=body.name,
        leader=body.leader,
        on_site=_on_site(body.on_site),
    )
    await team.fetch_related("unit__enterprise")
    return team


async def update_team(access: ProjectAccess, team_id: int, body: TeamUpdate) -> Team:
    """Edit a team: name, leader, unit, status (在场/退场); only the fields sent change (a name,
    unit or status sent null is refused, a leader sent null is cleared)."""
    sent = body.model_fields_set
    team = await get_team(access, team_id)
    access.check_manages(team.unit_id)
    changes: dict[str, Any] = {}
    if "name" in sent:
        changes["name"] = require(body.name, "name", "班组名称")
        if await _name_taken(access.project.id, changes["name"], exclude=team.id):
            raise Conflict(code=E.TEAM_NAME_TAKEN.code, field="name")
    if "leader" in sent:
        changes["leader"] = body.leader or ""
    if "on_site" in sent:
        changes["on_site"] = _on_site(body.on_site)
    new_unit = None
    if "unit_id" in sent and body.unit_id != team.unit_id:
        new_unit = await _team_unit(access, body.unit_id)
    active = (await active_counts([team.id])).get(team.id, 0)
    if active and new_unit is not None and new_unit.id != team.unit_id:
        raise Conflict(
            f"班组内还有 {active} 名在职人员，不能变更所属单位",
            code=E.TEAM_HAS_MEMBERS.code,
            field="unit_id",
        )
    if active and changes.get("on_site") is False:
        raise Conflict(
            f"班组内还有 {active} 名在职人员，请先为其办理离职后再将班组退场",
            code=E.TEAM_HAS_MEMBERS.code,
            field="on_site",
        )
    if new_unit is not None:
        changes["unit_id"] = new_unit.id
    if changes:
        await Team.filter(id=team.id).update(**changes)
    team = await Team.get(id=team.id).prefetch_related("unit__enterprise")
    return team


async def delete_team(access: ProjectAccess, team_id: int) -> None:
    """Delete a team (kept for the record, hidden); refused while it has active members."""
    team = await get_team(access, team_id)
    access.check_manages(team.unit_id)
    active = (await active_counts([team.id])).get(team.id, 0)
    if active:
        raise Conflict(
            f"班组内还有 {active} 名在职人员，请先为其办理离职后再删除班组",
            code=E.TEAM_HAS_MEMBERS.code,
        )
    await Team.filter(id=team.id).update(deleted_at=localtime.now(), on_site=False)


async def construction_units(access: ProjectAccess) -> list[dict[str, Any]]:
    """Units of the project the caller may put teams under (the 所属单位 picker)."""
    units = (
        await ParticipatingUnit.filter(
            project_id=access.project.id, role__in=list(CONSTRUCTION_ROLES)
        )
        .prefetch_related("enterprise")
        .order_by("id")
    )
    managed = access.scope.managed  # the picker is offered before MANAGE is checked
    return [
        unit_public(u) for u in units if access.sees(u.id) and (managed is None or u.id in managed)
    ]
