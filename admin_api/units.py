"""Participating units (参建单位管理): list, register a subcontractor, edit, exit."""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import upload_named
from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import audit_request, every, ok, page
from services import units as unit_service
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.projectinfo import (
    UnitChoice,
    UnitCreate,
    UnitExit,
    UnitPublic,
    UnitQuery,
    UnitUpdate,
    fields,
)

bp = Blueprint("admin_units", url_prefix="/projects")

UNIT_WRITE_ERRORS = (
    E.UNIT_ADMIN_ONLY,
    E.INVALID_CREDIT_CODE,
    E.CREDIT_CODE_NAME_MISMATCH,
    E.UNKNOWN_REGION,
    E.INVALID_PHONE,
    E.INVALID_DATE,
    E.INVALID_FILE_TYPE,
    E.TOO_LARGE,
)


@bp.get("/<code:str>/units")
@endpoint(summary="参建单位列表", access=Access.project(VIEW), response=Page[UnitPublic])
async def list_units(request: Request, query: UnitQuery, access: ProjectAccess) -> HTTPResponse:
    """参建单位 list; filters ``role`` (责任主体) and ``q`` (name, credit code or site lead)."""
    rows, total = await unit_service.list_units(
        access, role=query.role, q=query.q, page_no=query.page, size=query.page_size
    )
    return page(rows, total)


@bp.get("/<code:str>/units/options")
@endpoint(summary="可选参建单位", access=Access.project(VIEW), response=Page[UnitChoice])
async def unit_options(request: Request, access: ProjectAccess) -> HTTPResponse:
    """The registered units a form may choose from (materials, post personnel...)."""
    return every(await unit_service.selectable_units(access.project))


@bp.get("/<code:str>/units/<unit_id:int>")
@endpoint(
    summary="参建单位详情",
    access=Access.project(VIEW),
    response=UnitPublic,
    errors=(E.UNIT_NOT_FOUND,),
)
async def unit_detail(request: Request, unit_id: int, access: ProjectAccess) -> HTTPResponse:
    """One participating unit."""
    return ok(await unit_service.unit_detail(access, unit_id))


@bp.post("/<code:str>/units")
@endpoint(
    summary="登记分包单位",
    access=Access.project(MANAGE),
    form=True,
    files=("contract_file",),
    response=UnitPublic,
    status=201,
    errors=(*UNIT_WRITE_ERRORS, E.UNIT_EXISTS),
)
async def register_unit(request: Request, body: UnitCreate, access: ProjectAccess) -> HTTPResponse:
    """登记分包单位 (multipart: fields + ``contract_file``), by the builder/GC/project managers."""
    unit = await unit_service.register_subcontractor(
        access,
        fields(body),
        upload_named(request, "contract_file"),
        request.app.ctx.files,
    )
    await audit_request(
        request,
        access,
        "units.register",
        target=f"unit:{unit.id}",
    )
    return ok(await unit_service.unit_detail(access, unit.id), status=201)


# PUT and PATCH: the same edit (only the fields sent change)
edit_endpoint = partial(
    endpoint,
    access=Access.project(MANAGE),
    form=True,
    files=("contract_file",),
    response=UnitPublic,
    errors=(
        *UNIT_WRITE_ERRORS,
        E.UNIT_NOT_FOUND,
        E.UNIT_NOT_YOURS,
        E.READ_ONLY,
        E.UNIT_HAS_MEMBERS,
    ),
)


async def _edit(
    request: Request, access: ProjectAccess, unit_id: int, body: UnitUpdate
) -> HTTPResponse:
    data = fields(body)
    await unit_service.update_unit(
        access,
        unit_id,
        data,
        upload_named(request, "contract_file"),
        request.app.ctx.files,
    )
    await audit_request(
        request,
        access,
        "units.edit",
        target=f"unit:{unit_id}",
        detail={"fields": sorted(data)},
    )
    return ok(await unit_service.unit_detail(access, unit_id))


@bp.put("/<code:str>/units/<unit_id:int>")
@edit_endpoint(summary="编辑参建单位")
async def edit_unit(
    request: Request, unit_id: int, body: UnitUpdate, access: ProjectAccess
) -> HTTPResponse:
    """编辑单位 (multipart or JSON; only the fields sent change)."""
    return await _edit(request, access, unit_id, body)


@bp.patch("/<code:str>/units/<unit_id:int>")
@edit_endpoint(summary="编辑参建单位（部分字段）")
async def patch_unit(
    request: Request, unit_id: int, body: UnitUpdate, access: ProjectAccess
) -> HTTPResponse:
    """编辑单位 (multipart or JSON; only the fields sent change)."""
    return await _edit(request, access, unit_id, body)


@bp.post("/<code:str>/units/<unit_id:int>/exit")
@endpoint(
    summary="参建单位退场",
    access=Access.project(MANAGE),
    form=True,
    response=UnitPublic,
    errors=(
        E.UNIT_NOT_FOUND,
        E.UNIT_ADMIN_ONLY,
        E.UNIT_ALREADY_EXITED,
        E.UNIT_HAS_MEMBERS,
        E.INVALID_DATE,
    ),
)
async def exit_unit(
    request: Request, unit_id: int, body: UnitExit, access: ProjectAccess
) -> HTTPResponse:
    """退场: the unit leaves the site on ``exit_date``."""
    await unit_service.exit_unit(access, unit_id, fields(body))
    await audit_request(
        request,
        access,
        "units.exit",
        target=f"unit:{unit_id}",
    )
    return ok(await unit_service.unit_detail(access, unit_id))
