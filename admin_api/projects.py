"""Projects: import from permit data, the project switcher, basic info (基础信息)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models import Project
from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import audit_request, body_of, every, ok
from services import identity
from services.identity import VIEW, Principal, ProjectAccess
from services.projects import import_projects
from services.regions import region_path
from services.schemas.projectinfo import (
    PermitRow,
    ProjectImportResult,
    ProjectListItem,
    ProjectPublic,
)

bp = Blueprint("admin_projects", url_prefix="/projects")


async def project_public(project: Project) -> dict:
    """The basic-info view of a project."""
    return {
        "code": project.code,
        "name": project.name,
        "type": project.type,
        "region_code": project.region_id,
        "region": await region_path(project.region_id),
        "managing_level": str(project.managing_level),
        "permit_number": project.permit_number,
        "permit_authority": project.permit_authority,
        "cost": str(project.cost) if project.cost is not None else None,
        "status": project.status,
        "synced_at": project.synced_at,
    }


def _permit_rows(request: Request) -> Any:
    """The JSON array of permit rows (each row is checked, and reported, by the import)."""
    try:
        return request.json
    except Exception:  # noqa: BLE001 - sanic raises its own BadRequest
        return body_of(request)  # raises the one malformed-JSON error


@bp.post("/import")
@endpoint(
    summary="导入施工许可项目数据",
    access=Access.kinds("operator") | Access.provincial_regulator(),
    body_doc=list[PermitRow],
    response=ProjectImportResult,
    errors=(E.INVALID_FILE, E.MALFORMED_JSON),
)
async def import_permit_data(request: Request, principal: Principal) -> HTTPResponse:
    """Upsert projects from construction-permit data (a JSON array of permit rows; operators and
    provincial regulators). Invalid rows are reported by index and field, valid ones imported."""
    result = await import_projects(_permit_rows(request))
    await audit_request(
        request,
        principal,
        "projects.import",
        detail={k: result[k] for k in ("created", "updated", "total")},
    )
    return ok(result)


@bp.get("")
@endpoint(summary="我的项目（项目切换）", access=Access.signed_in(), response=Page[ProjectListItem])
async def my_projects(request: Request, principal: Principal) -> HTTPResponse:
    """The projects the caller may switch between."""
    projects = await identity.accessible_projects(principal)
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "status": p.status,
            "region_code": p.region_id,
        }
        for p in projects
    ]
    return every(rows)


@bp.get("/<code:str>")
@endpoint(summary="项目基础信息", access=Access.project(VIEW), response=ProjectPublic)
async def basic_info(request: Request, access: ProjectAccess) -> HTTPResponse:
    """Basic information of one project (基础信息查看)."""
    data = await project_public(access.project)
    data["my_capabilities"] = sorted(access.caps)
    return ok(data)
