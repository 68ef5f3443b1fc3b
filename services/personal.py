"""The mini-program's personal views: my projects, my own memberships, a post person's summary.

Workers see only their own records: every per-member view goes through `own_member`.
"""

from __future__ import annotations

from typing import Any, cast

from models import (
    PersonType,
    Project,
    ProjectMember,
    Punch,
    WorkStatus,
)
from models.announcements import Announcement
from models.contracts import LabourContract
from models.org import UNIT_ROLE_LABELS, UnitRole
from models.people import PERSON_TYPE_LABELS, POST_LABELS, WORK_STATUS_LABELS, Post
from realname import error_codes as E
from realname.errors import Forbidden, NotFound
from services import attendance, contracts, localtime
from services.held_posts import held_posts
from services.identity import Principal, ProjectAccess, region_covers


def _label(mapping: dict[Any, str], enum: type, value: str) -> str:
    """The Chinese label of an enum value (the value itself if unknown)."""
    try:
        return mapping[enum(value)]
    except (ValueError, KeyError):
        return value


def require_person(principal: Principal) -> int:
    """The caller's person id; unbound WeChat users are told to bind first."""
    if principal.kind != "person":
        raise Forbidden(E.WRONG_ACCOUNT_KIND.message, code=E.WRONG_ACCOUNT_KIND.code)
    if not principal.person_id:
        raise Forbidden(E.NOT_BOUND.message, code=E.NOT_BOUND.code)
    return principal.person_id


async def my_projects(principal: Principal) -> list[dict[str, Any]]:
    """Every project the caller is on: membership, team, contract warning, permit posts."""
    person_id = require_person(principal)
    members = await (
        ProjectMember.filter(person_id=person_id)
        .order_by("-entry_date")
        .prefetch_related("project", "team", "unit__enterprise")
    )
    today = localtime.today()
    states = await contracts.contract_states(members, today)
    rows: dict[int, dict[str, Any]] = {}
    for m in members:
        rows[m.project.id] = {
            "project_code": m.project.code,
            "project_name": m.project.name,
            "project_status": m.project.status,
            "member_id": m.id,
            "person_type": str(m.person_type),
            "person_type_label": _label(PERSON_TYPE_LABELS, PersonType, m.person_type),
            "work_type": m.work_type,
            "post": m.post,
            "post_label": _label(POST_LABELS, Post, m.post) if m.post else "",
            "team": m.team.name if m.team else None,
            "unit": m.unit.enterprise.name,
            "unit_role_label": _label(UNIT_ROLE_LABELS, UnitRole, m.unit.role),
            "work_status": str(m.work_status),
            "work_status_label": _label(WORK_STATUS_LABELS, WorkStatus, m.work_status),
            "entry_date": m.entry_date,
            "exit_date": m.exit_date,
            **states.get(m.id, {}),
            "permit_posts": [],
        }
    permit = [held for held in await held_posts(person_id) if held.on_permit]
    projects = {p.id: p for p in await Project.filter(id__in={h.project_id for h in permit})}
    for held in permit:
        project = projects[held.project_id]
        row = rows.setdefault(
            project.id,
            {
                "project_code": project.code,
                "project_name": project.name,
                "project_status": project.status,
                "member_id": None,
                "permit_posts": [],
            },
        )
        row["permit_posts"].append(
            {"code": held.post, "label": _label(POST_LABELS, Post, held.post)}
        )
    return list(rows.values())


async def own_member(principal: Principal, member_id: int) -> ProjectMember:
    """The membership `member_id`, which must be the caller's own (a worker sees only theirs)."""
    person_id = require_person(principal)
    member = await ProjectMember.get_or_none(id=member_id)
    if member is None:
        raise NotFound("人员不存在", code=E.MEMBER_NOT_FOUND.code)
    if member.person_id != person_id:
        raise Forbidden(E.NOT_OWN_RECORD.message, code=E.NOT_OWN_RECORD.code)
    return member


def parse_month(value: str | None) -> tuple[int, int]:
    """``YYYY-MM`` (default: this month) as (year, month); a bad value names the field."""
    if not value:
        today = localtime.today()
        return today.year, today.month
    year, mon, _, _ = attendance.month_bounds(value)
    return year, mon


async def my_month(
    principal: Principal, member_id: int, month: str | None, photo_url: Any = None
) -> dict[str, Any]:
    """The caller's own month of attendance (days, hours, punches with photos)."""
    member = await own_member(principal, member_id)
    year, mon = parse_month(month)
    return await attendance.member_month(member.id, year, mon, photo_url=photo_url)


async def own_punch_photo(principal: Principal, member_id: int, punch_id: int) -> str:
    """The file key of a photo of one of the caller's own punches."""
    member = await own_member(principal, member_id)
    punch = await Punch.get_or_none(id=punch_id, member_id=member.id)
    if punch is None or not punch.photo_key:
        raise NotFound(E.PHOTO_NOT_FOUND.message, code=E.PHOTO_NOT_FOUND.code)
    return punch.photo_key


async def project_summary(access: ProjectAccess) -> dict[str, Any]:
    """One screen for post personnel: today on site, contract warnings, the caller's posts
    (counts over the members the caller sees)."""
    project, posts = access.project, access.posts
    today = localtime.project_today(project)
    on_site = await attendance.workbench_summary(access, today)
    warnings = await contracts.warning_summary(access, today)
    active = await access.rows(
        ProjectMember.filter(project_id=project.id, work_status=WorkStatus.ACTIVE)
    )
    return {
        "project_code": project.code,
        "project_name": project.name,
        "status": project.status,
        "date": today.isoformat(),
        "my_posts": [{"code": p, "label": _label(POST_LABELS, Post, p)} for p in sorted(posts)],
        "members_active": {
            "labour": sum(1 for m in active if m.person_type == PersonType.LABOUR),
            "management": sum(1 for m in active if m.person_type == PersonType.MANAGEMENT),
        },
        "on_site_today": on_site["on_site_total"],
        "on_site_by_person_type": on_site["on_site_by_person_type"],
        "attendance_rate": on_site["attendance_rate"],
        "contract_warnings": {"counts": warnings["counts"], "labels": warnings["labels"]},
    }


async def my_contracts(principal: Principal, member_id: int) -> dict[str, Any]:
    """The caller's own contracts on one membership, and the membership's contract warning."""
    member = await own_member(principal, member_id)
    today = localtime.today()
    state = (await contracts.contract_states([member], today))[member.id]
    rows = (
        await LabourContract.filter(member_id=member.id, deleted_at__isnull=True)
        .order_by("-start_date", "-id")
        .prefetch_related("member__person")
    )
    return {
        "member_id": member.id,
        **state,
        "data": [contracts.contract_public(c, full=False) for c in rows],
        "total": len(rows),
    }


async def announcements_for(
    principal: Principal, page_no: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """Announcements not withdrawn whose region covers one of the caller's projects."""
    person_id = require_person(principal)
    project_ids = {held.project_id for held in await held_posts(person_id)}
    project_ids |= set(
        cast(
            list[int],
            await ProjectMember.filter(person_id=person_id).values_list("project_id", flat=True),
        )
    )
    regions = set(
        cast(
            list[str],
            await Project.filter(id__in=list(project_ids)).values_list("region_id", flat=True),
        )
    )
    visible = []
    for ann in (
        await Announcement.filter(withdrawn_at__isnull=True)
        .order_by("-published_at", "-id")
        .prefetch_related("region")
    ):
        region = ann.region
        if region is None or any(
            region_covers(region.code, code, str(region.level)) for code in regions
        ):
            visible.append(ann)
    start = (page_no - 1) * size
    rows = [
        {
            "id": a.id,
            "title": a.title,
            "content": a.content,
            "publisher_name": a.publisher_name,
            "published_at": a.published_at,
        }
        for a in visible[start : start + size]
    ]
    return rows, len(visible)
