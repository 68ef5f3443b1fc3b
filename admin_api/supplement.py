"""考勤补录: file a request for a labour member, see the queue, approve or reject."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import files_of, form_of
from realname.errors import ValidationError
from realname.web import body_of, current_principal, ip_of, ok, page, paging, project_access
from services import identity, supplement

bp = Blueprint("admin_supplement", url_prefix="/projects/<code:str>/supplements")


def _form(request: Request) -> tuple[dict[str, Any], list[tuple[bytes, str]]]:
    """The request's fields and evidence files (multipart form or JSON without files)."""
    if (request.content_type or "").startswith("multipart/form-data"):
        form = form_of(request)
        data = {k: form.get(k) for k in form}
        files = [(f.body, f.name) for f in (files_of(request).getlist("evidence") or [])]
        return data, files
    return body_of(request), []


@bp.post("")
async def file_request(request: Request, code: str) -> HTTPResponse:
    """File a supplementary-attendance request (member_id, date, in_time, out_time, reason,
    evidence files)."""
    access = await project_access(request, code, identity.VIEW)
    data, files = _form(request)
    created = await supplement.file_request(
        access, data, files, request.app.ctx.files, ip=ip_of(request)
    )
    return ok(created, status=201)


@bp.get("")
async def list_requests(request: Request, code: str) -> HTTPResponse:
    """The project's requests: ``scope`` all | mine | queue, optional ``state``."""
    access = await project_access(request, code, identity.VIEW)
    page_no, size = paging(request)
    rows, total = await supplement.list_requests(
        access, request.args.get("scope", "all"), request.args.get("state"), page_no, size
    )
    return page(rows, total)


@bp.get("/<request_id:int>")
async def get_request(request: Request, code: str, request_id: int) -> HTTPResponse:
    """One request with its chain progress and history."""
    access = await project_access(request, code, identity.VIEW)
    return ok(await supplement.get_request(access.project.id, request_id))


@bp.post("/<request_id:int>/decision")
async def decide(request: Request, code: str, request_id: int) -> HTTPResponse:
    """The current node approves (``approve: true``) or rejects with a comment."""
    access = await project_access(request, code, identity.VIEW)
    await supplement.get_request(access.project.id, request_id)  # 404 for other projects
    body = body_of(request)
    approve = body.get("approve")
    if not isinstance(approve, bool):
        raise ValidationError("请选择通过或驳回", code="required", field="approve")
    principal = await current_principal(request)
    return ok(
        await supplement.decide(
            principal, request_id, approve, str(body.get("comment") or ""), ip=ip_of(request)
        )
    )
