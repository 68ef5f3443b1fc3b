"""Projects: import from permit data, the project switcher, basic info (基础信息)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models import AccountKind, Project
from realname.errors import Forbidden
from realname.web import current_principal, ip_of, ok, page, project_access
from services import audit, identity
from services.projects import import_projects
from services.regions import region_path

bp = Blueprint("admin_projects", url_prefix="/projects")


async def project_public(project: Project) -> dict:
    """The basic-info view of a project."""
    return {
        "code": project.code,
        "name": project.name,
        "type": project.type,
        "region_code": project.region_id,  # type: ignore[attr-defined]
        "region": await region_path(project.region_id),  # type: ignore[attr-defined]
        "managing_level": str(project.managing_level),
        "permit_number": project.permit_number,
        "permit_authority": project.permit_authority,
        "cost": str(project.cost) if project.cost is not None else None,
        "status": project.status,
        "synced_at": project.synced_at,
    }


@bp.post("/import")
async def import_permit_data(request: Request) -> HTTPResponse:
    """Upsert projects from construction-permit data (operators and provincial regulators)."""
    principal = await current_principal(request)
    provincial = principal.kind == AccountKind.REGULATOR and (principal.region_code or "").endswith(
        "0000"
    )
    if principal.kind != AccountKind.OPERATOR and not provincial:
        raise Forbidden("仅平台运维或省级主管部门可导入项目", code="wrong_account_kind")
    result = await import_projects(request.json)
    await audit.record(
        "projects.import",
        principal=principal,
        ip=ip_of(request),
        detail={k: result[k] for k in ("created", "updated", "total")},
    )
    return ok(result)


@bp.get("")
async def my_projects(request: Request) -> HTTPResponse:
    """The projects the caller may switch between."""
    principal = await current_principal(request)
    projects = await identity.accessible_projects(principal)
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "status": p.status,
            "region_code": p.region_id,  # type: ignore[attr-defined]
        }
        for p in projects
    ]
    return page(rows, len(rows))


@bp.get("/<code:str>")
async def basic_info(request: Request, code: str) -> HTTPResponse:
    """Basic information of one project (基础信息查看)."""
    access = await project_access(request, code)
    data = await project_public(access.project)
    data["my_capabilities"] = sorted(access.caps)
    return ok(data)
