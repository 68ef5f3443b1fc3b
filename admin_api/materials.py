"""Project materials (项目材料管理): 材料月报, 工资专户材料, 工程款收款凭证, 材料款付款凭证."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import upload_named
from realname import error_codes as E
from realname.contract import Access, Deleted, Page, endpoint
from realname.web import audit_request, deleted, every, ok, page
from services import files as file_service
from services import localtime, materials
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.projectinfo import (
    FilePublic,
    MaterialItems,
    MonthlyQuery,
    MonthRegister,
    MonthReport,
    MonthState,
    VoucherPage,
    VoucherQuery,
    WageMaterialCreate,
    WageMaterialPublic,
    WageMaterials,
    WageQuery,
    fields,
)

bp = Blueprint("admin_materials", url_prefix="/projects")

ITEM_ERRORS = (
    E.INVALID_MONTH,
    E.UNIT_NOT_REGISTERED,
    E.INVALID_NUMBER,
    E.INVALID_DATE,
    E.DATE_OUTSIDE_MONTH,
    E.UNKNOWN_FILE,
    E.TOO_MANY,
)


@bp.post("/<code:str>/materials/attachments")
@endpoint(
    summary="上传材料附件",
    access=Access.project(MANAGE),
    files=("file",),
    response=FilePublic,
    status=201,
    errors=(E.INVALID_FILE_TYPE, E.EMPTY_FILE, E.TOO_LARGE),
)
async def upload_attachment(request: Request, code: str, access: ProjectAccess) -> HTTPResponse:
    """Upload one material file (multipart ``file``); rows then refer to it by ``file_id``."""
    stored = await materials.upload_attachment(
        access, upload_named(request, "file"), request.app.ctx.files
    )
    return ok(file_service.file_public(stored, f"/admin/v1/projects/{code}"), status=201)


@bp.get("/<code:str>/materials/monthly")
@endpoint(
    summary="材料月报（按年）",
    access=Access.project(VIEW),
    response=Page[MonthState],
    errors=(E.INVALID_MONTH,),
)
async def monthly_overview(
    request: Request, query: MonthlyQuery, access: ProjectAccess
) -> HTTPResponse:
    """材料月报: the twelve months of ``year`` (default this year), registered or not."""
    year = query.year or localtime.project_today(access.project).year
    return every(await materials.month_overview(access.project, year))


@bp.get("/<code:str>/materials/monthly/<year:int>/<month:int>")
@endpoint(
    summary="材料月报详情",
    access=Access.project(VIEW),
    response=MonthReport,
    errors=(E.INVALID_MONTH, E.REPORT_NOT_FOUND),
)
async def monthly_detail(
    request: Request, year: int, month: int, access: ProjectAccess
) -> HTTPResponse:
    """One registered month with its contracts, receipts and payments."""
    return ok(await materials.report_detail(access, year, month))


@bp.post("/<code:str>/materials/monthly/<year:int>/<month:int>")
@endpoint(
    summary="登记材料月报",
    access=Access.project(MANAGE),
    response=MonthReport,
    status=201,
    errors=(*ITEM_ERRORS, E.FUTURE_MONTH, E.REPORT_EXISTS),
)
async def register_month(
    request: Request, year: int, month: int, body: MonthRegister, access: ProjectAccess
) -> HTTPResponse:
    """登记 a month: ``items`` of contracts/receipts/payments (unit_id, amount, date, file_id)."""
    await materials.register_month(access, year, month, fields(body))
    await audit_request(
        request,
        access,
        "materials.month",
        target=f"{year}-{month:02d}",
    )
    return ok(await materials.report_detail(access, year, month), status=201)


@bp.post("/<code:str>/materials/monthly/<year:int>/<month:int>/items")
@endpoint(
    summary="补充材料月报明细",
    access=Access.project(MANAGE),
    response=MonthReport,
    status=201,
    errors=(*ITEM_ERRORS, E.REPORT_NOT_FOUND),
)
async def add_items(
    request: Request, year: int, month: int, body: MaterialItems, access: ProjectAccess
) -> HTTPResponse:
    """补充 more lines to a registered month."""
    await materials.add_items(access, year, month, fields(body))
    return ok(await materials.report_detail(access, year, month), status=201)


@bp.delete("/<code:str>/materials/vouchers/<voucher_id:int>")
@endpoint(
    summary="删除材料凭证",
    access=Access.project(MANAGE),
    response=Deleted,
    errors=(E.VOUCHER_NOT_FOUND,),
)
async def delete_voucher(request: Request, voucher_id: int, access: ProjectAccess) -> HTTPResponse:
    """Remove a contract/voucher line from view (kept for the record)."""
    await materials.delete_voucher(access, voucher_id)
    return await deleted(request, access, "materials.voucher_delete", f"voucher:{voucher_id}")


@bp.get("/<code:str>/materials/vouchers")
@endpoint(
    summary="收款/付款凭证列表",
    access=Access.project(VIEW),
    response=VoucherPage,
    errors=(E.INVALID_MONTH,),
)
async def list_vouchers(
    request: Request, query: VoucherQuery, access: ProjectAccess
) -> HTTPResponse:
    """工程款收款凭证 (``kind=receipt``) / 材料款付款凭证 (``kind=payment``), ``month=YYYY-MM``."""
    rows, total, amount = await materials.list_vouchers(
        access, query.kind or "receipt", query.month or None, query.page, query.page_size
    )
    return page(rows, total, total_amount=amount)


@bp.get("/<code:str>/materials/wage-account")
@endpoint(
    summary="工资专户材料",
    access=Access.project(VIEW),
    response=WageMaterials,
)
async def wage_materials(request: Request, query: WageQuery, access: ProjectAccess) -> HTTPResponse:
    """工资专户材料: counts per kind and each kind's fields and rows."""
    return ok(await materials.wage_materials(access, query.kind or None))


@bp.post("/<code:str>/materials/wage-account/<kind:str>")
@endpoint(
    summary="登记工资专户材料",
    access=Access.project(MANAGE),
    response=WageMaterialPublic,
    status=201,
    errors=(
        E.MATERIAL_KIND_NOT_FOUND,
        E.UNIT_NOT_REGISTERED,
        E.INVALID_NUMBER,
        E.INVALID_DATE,
        E.INVALID_CHOICE,
        E.INVALID_BRANCH_CODE,
        E.SAME_PARTY,
        E.UNKNOWN_AGREEMENT,
        E.UNKNOWN_FILE,
    ),
)
async def register_wage_material(
    request: Request, code: str, kind: str, body: WageMaterialCreate, access: ProjectAccess
) -> HTTPResponse:
    """登记 one wage-account material of ``kind`` (escrow_agreement, account_opening...)."""
    row = await materials.register_wage_material(access, kind, fields(body))
    await audit_request(
        request,
        access,
        "materials.wage",
        target=f"{kind}:{row.id}",
    )
    await row.fetch_related("file")
    return ok(materials.wage_material_public(row, 0, f"/admin/v1/projects/{code}"), status=201)


@bp.delete("/<code:str>/materials/wage-account/<kind:str>/<material_id:int>")
@endpoint(
    summary="删除工资专户材料",
    access=Access.project(MANAGE),
    response=Deleted,
    errors=(E.MATERIAL_KIND_NOT_FOUND, E.MATERIAL_NOT_FOUND),
)
async def delete_wage_material(
    request: Request, kind: str, material_id: int, access: ProjectAccess
) -> HTTPResponse:
    """Remove a wage-account material from view (kept for the record)."""
    await materials.delete_wage_material(access, kind, material_id)
    return await deleted(request, access, "materials.wage_delete", f"{kind}:{material_id}")
