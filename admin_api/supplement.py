"""考勤补录: file a request for a labour member, see the queue, approve or reject."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import files_of, is_form
from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import ip_of, ok, page
from services import identity, supplement
from services.identity import ProjectAccess
from services.schemas.miniapp import SupplementView
from services.schemas.supplement import SupplementCreate, SupplementDecision, SupplementQuery

bp = Blueprint("admin_supplement", url_prefix="/projects/<code:str>/supplements")


def _evidence(request: Request) -> list[tuple[bytes, str]]:
    """The evidence files of a multipart request (none for JSON)."""
    if not is_form(request):
        return []
    return [(f.body, f.name) for f in (files_of(request).getlist("evidence") or [])]


@bp.post("")
@endpoint(
    summary="发起考勤补录",
    access=Access.project(identity.VIEW),
    form=True,
    files=("evidence",),
    response=SupplementView,
    status=201,
    errors=(
        E.MEMBER_NOT_FOUND,
        E.NOT_ALLOWED_TO_FILE,
        E.NOT_OWN_MEMBER,
        E.NOT_LABOUR,
        E.FUTURE_DATE,
        E.BEFORE_ENTRY,
        E.INVALID_TIME,
        E.PUNCH_BLOCKED,
        E.DUPLICATE_REQUEST,
        E.TOO_MANY,
        E.TOO_LARGE,
    ),
)
async def file_request(
    request: Request, body: SupplementCreate, access: ProjectAccess
) -> HTTPResponse:
    """File a supplementary-attendance request (member_id, date, in_time, out_time, reason,
    evidence files)."""
    created = await supplement.file_request(
        access, body, _evidence(request), request.app.ctx.files, ip=ip_of(request)
    )
    return ok(created, status=201)


@bp.get("")
@endpoint(
    summary="考勤补录列表",
    access=Access.project(identity.VIEW),
    response=Page[SupplementView],
)
async def list_requests(
    request: Request, query: SupplementQuery, access: ProjectAccess
) -> HTTPResponse:
    """The project's requests: ``scope`` all | mine | queue, optional ``state``."""
    rows, total = await supplement.list_requests(
        access, query.scope, query.state or None, query.page, query.page_size
    )
    return page(rows, total)


@bp.get("/<request_id:int>")
@endpoint(
    summary="考勤补录详情",
    access=Access.project(identity.VIEW),
    response=SupplementView,
    errors=(E.SUPPLEMENT_NOT_FOUND,),
)
async def get_request(request: Request, request_id: int, access: ProjectAccess) -> HTTPResponse:
    """One request with its chain progress and history."""
    return ok(await supplement.get_request(access, request_id))


@bp.post("/<request_id:int>/decision")
@endpoint(
    summary="审批考勤补录",
    access=Access.project(identity.VIEW),
    response=SupplementView,
    errors=(
        E.SUPPLEMENT_NOT_FOUND,
        E.NOT_ON_CHAIN,
        E.NOT_CURRENT_NODE,
        E.ALREADY_DECIDED,
        E.REQUEST_CHANGED,
        E.PUNCH_BLOCKED,
    ),
)
async def decide(
    request: Request, request_id: int, body: SupplementDecision, access: ProjectAccess
) -> HTTPResponse:
    """The current node approves (``approve: true``) or rejects with a comment."""
    await supplement.get_request(access, request_id)  # 404 for other projects and units
    return ok(
        await supplement.decide(
            access.principal, request_id, body.approve, body.comment, ip=ip_of(request)
        )
    )
