"""Contracts (合同管理): tabs 未签约 / 履约中 / 已解约; upload, edit, terminate, re-sign."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import upload_of
from models.contracts import TERMINATION_TYPES, LabourContract
from realname import error_codes as E
from realname.contract import Access, Deleted, Page, endpoint
from realname.web import audit_request, deleted, ok, page
from services import contracts, labour, localtime
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.contracts import (
    ContractCreate,
    ContractPage,
    ContractPublic,
    ContractsQuery,
    ContractTerminate,
    ContractUpdate,
    UnsignedQuery,
    UnsignedRow,
    WarningCounts,
)

bp = Blueprint("admin_contracts", url_prefix="/projects")
UPLOAD_ERRORS = (E.INVALID_FILE_TYPE, E.EMPTY_FILE, E.TOO_LARGE)


async def _changed(
    request: Request,
    access: ProjectAccess,
    action: str,
    contract: LabourContract,
    *,
    status: int = 200,
    detail: dict[str, Any] | None = None,
) -> HTTPResponse:
    """A contract changed: audited as `action`, answered with the contract."""
    await audit_request(request, access, action, target=f"contract:{contract.id}", detail=detail)
    return ok(contracts.contract_public(contract, labour.show_pii(access)), status=status)


@bp.get("/<code:str>/contracts/unsigned")
@endpoint(
    summary="未签约人员",
    access=Access.project(VIEW),
    response=Page[UnsignedRow],
)
async def unsigned(request: Request, query: UnsignedQuery, access: ProjectAccess) -> HTTPResponse:
    """未签约: active labour members without a contract in force, with their warning level."""
    rows, total = await contracts.list_unsigned(
        access, q=query.q, warning=query.warning, page=query.page, size=query.page_size
    )
    return page(rows, total)


@bp.get("/<code:str>/contracts/warnings")
@endpoint(summary="合同预警统计", access=Access.project(VIEW), response=WarningCounts)
async def warnings(request: Request, access: ProjectAccess) -> HTTPResponse:
    """Counts of yellow / orange / red contract warnings on the project."""
    summary = await contracts.warning_summary(access, localtime.project_today(access.project))
    return ok({"counts": summary["counts"], "labels": summary["labels"]})


@bp.get("/<code:str>/contracts")
@endpoint(
    summary="合同列表（履约中/已解约）",
    access=Access.project(VIEW),
    response=ContractPage,
)
async def list_contracts(
    request: Request, query: ContractsQuery, access: ProjectAccess
) -> HTTPResponse:
    """履约中 (status=active, default) or 已解约 (status=terminated) contracts."""
    rows, total = await contracts.list_contracts(
        access,
        query.status,
        q=query.q,
        termination_type=query.termination_type,
        page=query.page,
        size=query.page_size,
    )
    return page(rows, total, termination_types=list(TERMINATION_TYPES))


@bp.post("/<code:str>/contracts")
@endpoint(
    summary="上传劳动合同",
    access=Access.project(MANAGE),
    form=True,
    files=("attachment",),
    response=ContractPublic,
    status=201,
    errors=(E.MEMBER_NOT_FOUND, E.CONTRACT_EXISTS, E.NOT_LABOUR, E.INVALID_DATE, *UPLOAD_ERRORS),
)
async def upload_contract(
    request: Request, body: ContractCreate, access: ProjectAccess
) -> HTTPResponse:
    """上传: sign a member's contract (multipart: fields + ``attachment`` file)."""
    contract = await contracts.create_contract(
        access,
        body,
        upload_of(request, "attachment"),
        request.app.ctx.files,
        request.app.ctx.settings.max_upload_bytes,
    )
    return await _changed(request, access, "contract.upload", contract, status=201)


@bp.patch("/<code:str>/contracts/<contract_id:int>")
@endpoint(
    summary="编辑劳动合同",
    access=Access.project(MANAGE),
    form=True,
    files=("attachment",),
    response=ContractPublic,
    errors=(E.CONTRACT_NOT_FOUND, E.CONTRACT_NOT_ACTIVE, E.INVALID_DATE, *UPLOAD_ERRORS),
)
async def edit_contract(
    request: Request, contract_id: int, body: ContractUpdate, access: ProjectAccess
) -> HTTPResponse:
    """编辑: change a contract in force (JSON, or multipart with a new ``attachment``)."""
    contract = await contracts.update_contract(
        access,
        contract_id,
        body,
        upload_of(request, "attachment"),
        request.app.ctx.files,
        request.app.ctx.settings.max_upload_bytes,
    )
    return await _changed(request, access, "contract.update", contract)


@bp.post("/<code:str>/contracts/<contract_id:int>/terminate")
@endpoint(
    summary="劳动合同解约",
    access=Access.project(MANAGE),
    form=True,
    response=ContractPublic,
    errors=(E.CONTRACT_NOT_FOUND, E.CONTRACT_NOT_ACTIVE, E.INVALID_DATE),
)
async def terminate(
    request: Request, contract_id: int, body: ContractTerminate, access: ProjectAccess
) -> HTTPResponse:
    """解约: terminate with type, reason, initiated and confirmed times."""
    contract = await contracts.terminate_contract(access, contract_id, body)
    detail = {"type": contract.termination_type}
    return await _changed(request, access, "contract.terminate", contract, detail=detail)


@bp.delete("/<code:str>/contracts/<contract_id:int>")
@endpoint(
    summary="删除劳动合同",
    access=Access.project(MANAGE),
    response=Deleted,
    errors=(E.CONTRACT_NOT_FOUND, E.CONTRACT_NOT_ACTIVE),
)
async def delete_contract(
    request: Request, contract_id: int, access: ProjectAccess
) -> HTTPResponse:
    """删除: remove a contract in force so the member can be signed again."""
    await contracts.delete_contract(access, contract_id)
    return await deleted(request, access, "contract.delete", f"contract:{contract_id}")
