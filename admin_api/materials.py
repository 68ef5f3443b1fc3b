"""Project materials (项目材料管理): 材料月报, 工资专户材料, 工程款收款凭证, 材料款付款凭证."""

from __future__ import annotations

import datetime as dt

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api.units import first_upload, read_form
from realname.errors import ValidationError
from realname.web import audit_project, body_of, ok, page, paging, project_access
from services import files as file_service
from services import materials
from services.identity import MANAGE

bp = Blueprint("admin_materials", url_prefix="/projects")


@bp.post("/<code:str>/materials/attachments")
async def upload_attachment(request: Request, code: str) -> HTTPResponse:
    """Upload one material file (multipart ``file``); rows then refer to it by ``file_id``."""
    access = await project_access(request, code, MANAGE)
    _, uploads = read_form(request)
    stored = await materials.upload_attachment(
        access, first_upload(uploads, "file"), request.app.ctx.files
    )
    return ok(file_service.file_public(stored, f"/admin/v1/projects/{code}"), status=201)


@bp.get("/<code:str>/materials/monthly")
async def monthly_overview(request: Request, code: str) -> HTTPResponse:
    """材料月报: the twelve months of ``year`` (default this year), registered or not."""
    access = await project_access(request, code)
    year = request.args.get("year") or dt.date.today().year
    try:
        year = int(year)
    except ValueError as exc:
        raise ValidationError("年份应为整数", code="invalid_month", field="year") from exc
    rows = await materials.month_overview(access.project, year)
    return page(rows, len(rows))


@bp.get("/<code:str>/materials/monthly/<year:int>/<month:int>")
async def monthly_detail(request: Request, code: str, year: int, month: int) -> HTTPResponse:
    """One registered month with its contracts, receipts and payments."""
    access = await project_access(request, code)
    return ok(await materials.report_detail(access, year, month))


@bp.post("/<code:str>/materials/monthly/<year:int>/<month:int>")
async def register_month(request: Request, code: str, year: int, month: int) -> HTTPResponse:
    """登记 a month: ``items`` of contracts/receipts/payments (unit_id, amount, date, file_id)."""
    access = await project_access(request, code, MANAGE)
    await materials.register_month(access, year, month, body_of(request))
    await audit_project(
        request,
        access,
        "materials.month",
        target=f"{year}-{month:02d}",
    )
    return ok(await materials.report_detail(access, year, month), status=201)


@bp.post("/<code:str>/materials/monthly/<year:int>/<month:int>/items")
async def add_items(request: Request, code: str, year: int, month: int) -> HTTPResponse:
    """补充 more lines to a registered month."""
    access = await project_access(request, code, MANAGE)
    await materials.add_items(access, year, month, body_of(request))
    return ok(await materials.report_detail(access, year, month), status=201)


@bp.delete("/<code:str>/materials/vouchers/<voucher_id:int>")
async def delete_voucher(request: Request, code: str, voucher_id: int) -> HTTPResponse:
    """Remove a contract/voucher line from view (kept for the record)."""
    access = await project_access(request, code, MANAGE)
    await materials.delete_voucher(access, voucher_id)
    await audit_project(
        request,
        access,
        "materials.voucher_delete",
        target=f"voucher:{voucher_id}",
    )
    return ok({"deleted": True})


@bp.get("/<code:str>/materials/vouchers")
async def list_vouchers(request: Request, code: str) -> HTTPResponse:
    """工程款收款凭证 (``kind=receipt``) / 材料款付款凭证 (``kind=payment``), ``month=YYYY-MM``."""
    access = await project_access(request, code)
    page_no, size = paging(request)
    rows, total, amount = await materials.list_vouchers(
        access, request.args.get("kind") or "receipt", request.args.get("month"), page_no, size
    )
    return page(rows, total, total_amount=amount)


@bp.get("/<code:str>/materials/wage-account")
async def wage_materials(request: Request, code: str) -> HTTPResponse:
    """工资专户材料: counts per kind and each kind's fields and rows."""
    access = await project_access(request, code)
    return ok(await materials.wage_materials(access, request.args.get("kind")))


@bp.post("/<code:str>/materials/wage-account/<kind:str>")
async def register_wage_material(request: Request, code: str, kind: str) -> HTTPResponse:
    """登记 one wage-account material of ``kind`` (escrow_agreement, account_opening...)."""
    access = await project_access(request, code, MANAGE)
    row = await materials.register_wage_material(access, kind, body_of(request))
    await audit_project(
        request,
        access,
        "materials.wage",
        target=f"{kind}:{row.id}",
    )
    await row.fetch_related("file")
    return ok(materials.wage_material_public(row, 0, f"/admin/v1/projects/{code}"), status=201)


@bp.delete("/<code:str>/materials/wage-account/<kind:str>/<material_id:int>")
async def delete_wage_material(
    request: Request, code: str, kind: str, material_id: int
) -> HTTPResponse:
    """Remove a wage-account material from view (kept for the record)."""
    access = await project_access(request, code, MANAGE)
    await materials.delete_wage_material(access, kind, material_id)
    await audit_project(
        request,
        access,
        "materials.wage_delete",
        target=f"{kind}:{material_id}",
    )
    return ok({"deleted": True})
