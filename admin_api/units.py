"""Participating units (参建单位管理): list, register a subcontractor, edit, exit."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import audit_project, body_of, ok, page, paging, project_access
from services import units as unit_service
from services.identity import MANAGE
from services.units import Upload

bp = Blueprint("admin_units", url_prefix="/projects")


def read_form(request: Request) -> tuple[dict[str, Any], dict[str, list[Upload]]]:
    """Fields and uploads of a form (multipart or urlencoded), or the JSON body, no uploads."""
    content_type = request.content_type or ""
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        fields = {k: v[0] if len(v) == 1 else v for k, v in (request.form or {}).items()}
        uploads = {
            k: [Upload(data=f.body, name=f.name or "") for f in v if f.body]
            for k, v in (request.files or {}).items()
        }
        return fields, {k: v for k, v in uploads.items() if v}
    return body_of(request), {}


def first_upload(uploads: dict[str, list[Upload]], name: str) -> Upload | None:
    """The first file uploaded under `name`, if any."""
    found = uploads.get(name) or []
    return found[0] if found else None


@bp.get("/<code:str>/units")
async def list_units(request: Request, code: str) -> HTTPResponse:
    """参建单位 list; filters ``role`` (责任主体) and ``q`` (name, credit code or site lead)."""
    access = await project_access(request, code)
    page_no, size = paging(request)
    rows, total = await unit_service.list_units(
        access, role=request.args.get("role"), q=request.args.get("q"), page_no=page_no, size=size
    )
    return page(rows, total)


@bp.get("/<code:str>/units/options")
async def unit_options(request: Request, code: str) -> HTTPResponse:
    """The registered units a form may choose from (materials, post personnel...)."""
    access = await project_access(request, code)
    rows = await unit_service.selectable_units(access.project)
    return page(rows, len(rows))


@bp.get("/<code:str>/units/<unit_id:int>")
async def unit_detail(request: Request, code: str, unit_id: int) -> HTTPResponse:
    """One participating unit."""
    access = await project_access(request, code)
    return ok(await unit_service.unit_detail(access, unit_id))


@bp.post("/<code:str>/units")
async def register_unit(request: Request, code: str) -> HTTPResponse:
    """登记分包单位 (multipart: fields + ``contract_file``), by the builder/GC/project managers."""
    access = await project_access(request, code, MANAGE)
    data, uploads = read_form(request)
    unit = await unit_service.register_subcontractor(
        access, data, first_upload(uploads, "contract_file"), request.app.ctx.files
    )
    await audit_project(
        request,
        access,
        "units.register",
        target=f"unit:{unit.id}",
    )
    return ok(await unit_service.unit_detail(access, unit.id), status=201)


@bp.route("/<code:str>/units/<unit_id:int>", methods=["PUT", "PATCH"])
async def edit_unit(request: Request, code: str, unit_id: int) -> HTTPResponse:
    """编辑单位 (multipart or JSON; only the fields sent change)."""
    access = await project_access(request, code, MANAGE)
    data, uploads = read_form(request)
    await unit_service.update_unit(
        access, unit_id, data, first_upload(uploads, "contract_file"), request.app.ctx.files
    )
    await audit_project(
        request,
        access,
        "units.edit",
        target=f"unit:{unit_id}",
        detail={"fields": sorted(data)},
    )
    return ok(await unit_service.unit_detail(access, unit_id))


@bp.post("/<code:str>/units/<unit_id:int>/exit")
async def exit_unit(request: Request, code: str, unit_id: int) -> HTTPResponse:
    """退场: the unit leaves the site on ``exit_date``."""
    access = await project_access(request, code, MANAGE)
    await unit_service.exit_unit(access, unit_id, body_of(request))
    await audit_project(
        request,
        access,
        "units.exit",
        target=f"unit:{unit_id}",
    )
    return ok(await unit_service.unit_detail(access, unit_id))
