"""Public project query (项目查询), no sign-in: a project's participating units and key post
personnel, by project name or construction-permit number, with names and nothing more personal."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aredis

from models import KeyPersonnel, ParticipatingUnit, Project, UnitRole
from models.org import UNIT_ROLE_LABELS
from models.people import POST_LABELS, Post
from realname import error_codes as E
from realname.errors import ValidationError
from services import ratelimit
from services.listing import paged
from services.regions import region_path
from services.units import ROLE_ORDER

PUBLIC_QUERY = ratelimit.Limit("public_project_query", 30, 60, "查询过于频繁，请稍后再试")
MAX_PAGE_SIZE = 20
MIN_NAME_LEN = 2


def _post_label(role: str) -> str:
    try:
        return POST_LABELS[Post(role)]
    except ValueError:
        return role


async def search(
    redis: aredis.Redis,
    ip: str,
    name: str | None,
    permit_number: str | None,
    page_no: int,
    size: int,
) -> tuple[list[dict[str, Any]], int]:
    """Projects whose name contains `name` or whose permit number is `permit_number`."""
    name = (name or "").strip()
    permit_number = (permit_number or "").strip()
    if not name and not permit_number:
        raise ValidationError("请输入项目名称或施工许可证号", code=E.REQUIRED.code, field="name")
    if name and len(name) < MIN_NAME_LEN:
        raise ValidationError(
            f"项目名称至少输入{MIN_NAME_LEN}个字", code=E.TOO_SHORT.code, field="name"
        )
    if size > MAX_PAGE_SIZE:
        raise ValidationError(
            f"每页最多{MAX_PAGE_SIZE}条", code=E.INVALID_FIELD.code, field="page_size"
        )
    await ratelimit.hit(redis, PUBLIC_QUERY, ip or "unknown")
    query = Project.all()
    if name:
        query = query.filter(name__icontains=name)
    if permit_number:
        query = query.filter(permit_number=permit_number)
    total = await query.count()
    projects = await paged(query, page_no, size, "name", "id")
    if not projects:
        return [], total
    ids = [p.id for p in projects]
    units = await ParticipatingUnit.filter(project_id__in=ids).prefetch_related("enterprise")
    people = (
        await KeyPersonnel.filter(project_id__in=ids, ended_at=None)
        .order_by("id")
        .values("project_id", "role", "name")
    )
    rows = []
    for p in projects:
        mine = sorted(
            (u for u in units if u.project_id == p.id),
            key=lambda u: (ROLE_ORDER.get(UnitRole(u.role), 99), u.id),
        )
        rows.append(
            {
                "name": p.name,
                "permit_number": p.permit_number,
                "region": await region_path(p.region_id),
                "status": p.status,
                "units": [
                    {
                        "name": u.enterprise.name,
                        "credit_code": u.enterprise.credit_code,
                        "role": str(u.role),
                        "role_label": UNIT_ROLE_LABELS[UnitRole(u.role)],
                    }
                    for u in mine
                ],
                "key_personnel": [
                    {"role": k["role"], "role_label": _post_label(k["role"]), "name": k["name"]}
                    for k in people
                    if k["project_id"] == p.id
                ],
            }
        )
    return rows, total
