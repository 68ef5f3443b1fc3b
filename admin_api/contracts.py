"""Contracts (合同管理): tabs 未签约 / 履约中 / 已解约; upload, edit, terminate, re-sign."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import fields_of, upload_of
from models.contracts import TERMINATION_TYPES
from realname.web import audit_project, ok, page, paging, project_access
from services import contracts, labour
from services.identity import MANAGE, VIEW

bp = Blueprint("admin_contracts", url_prefix="/projects")


@bp.get("/<code:str>/contracts/unsigned")
async def unsigned(request: Request, code: str) -> HTTPResponse:
    """未签约: active labour members without a contract in force, with their warning level."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    rows, total = await contracts.list_unsigned(
        access,
        q=request.args.get("q", ""),
        warning=request.args.get("warning", ""),
        page=page_no,
        size=size,
    )
    return page(rows, total)


@bp.get("/<code:str>/contracts/warnings")
async def warnings(request: Request, code: str) -> HTTPResponse:
    """Counts of yellow / orange / red contract warnings on the project."""
    access = await project_access(request, code, VIEW)
    summary = await contracts.warning_summary(
        access.project.id, labour.project_today(access.project)
    )
    return ok({"counts": summary["counts"], "labels": summary["labels"]})


@bp.get("/<code:str>/contracts")
async def list_contracts(request: Request, code: str) -> HTTPResponse:
    """履约中 (status=active, default) or 已解约 (status=terminated) contracts."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    rows, total = await contracts.list_contracts(
        access,
        request.args.get("status", "active"),
        q=request.args.get("q", ""),
        termination_type=request.args.get("termination_type", ""),
        page=page_no,
        size=size,
    )
    return page(rows, total, termination_types=list(TERMINATION_TYPES))


@bp.post("/<code:str>/contracts")
async def upload_contract(request: Request, code: str) -> HTTPResponse:
    """上传: sign a member's contract (multipart: fields + ``attachment`` file)."""
    access = await project_access(request, code, MANAGE)
    contract = await contracts.create_contract(
        access,
        fields_of(request),
        upload_of(request, "attachment"),
        request.app.ctx.files,
        request.app.ctx.settings.max_upload_bytes,
    )
    await audit_project(
        request,
        access,
        "contract.upload",
        target=f"contract:{contract.id}",
    )
    return ok(contracts.contract_public(contract, labour.show_pii(access)), status=201)


@bp.patch("/<code:str>/contracts/<contract_id:int>")
async def edit_contract(request: Request, code: str, contract_id: int) -> HTTPResponse:
    """编辑: change a contract in force (JSON, or multipart with a new ``attachment``)."""
    access = await project_access(request, code, MANAGE)
    contract = await contracts.update_contract(
        access,
        contract_id,
        fields_of(request),
        upload_of(request, "attachment"),
        request.app.ctx.files,
        request.app.ctx.settings.max_upload_bytes,
    )
    await audit_project(
        request,
        access,
        "contract.update",
        target=f"contract:{contract.id}",
    )
    return ok(contracts.contract_public(contract, labour.show_pii(access)))


@bp.post("/<code:str>/contracts/<contract_id:int>/terminate")
async def terminate(request: Request, code: str, contract_id: int) -> HTTPResponse:
    """解约: terminate with type, reason, initiated and confirmed times."""
    access = await project_access(request, code, MANAGE)
    contract = await contracts.terminate_contract(access, contract_id, fields_of(request))
    await audit_project(
        request,
        access,
        "contract.terminate",
        target=f"contract:{contract.id}",
        detail={"type": contract.termination_type},
    )
    return ok(contracts.contract_public(contract, labour.show_pii(access)))


@bp.delete("/<code:str>/contracts/<contract_id:int>")
async def delete_contract(request: Request, code: str, contract_id: int) -> HTTPResponse:
    """删除: remove a contract in force so the member can be signed again."""
    access = await project_access(request, code, MANAGE)
    await contracts.delete_contract(access, contract_id)
    await audit_project(
        request,
        access,
        "contract.delete",
        target=f"contract:{contract_id}",
    )
    return ok({"deleted": True})
