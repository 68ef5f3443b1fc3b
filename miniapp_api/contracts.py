"""My labour contracts and their warnings (rule 4)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.web import ok
from services import personal
from services.identity import Principal
from services.schemas.miniapp import MyContracts

bp = Blueprint("miniapp_contracts", url_prefix="/members/<member_id:int>/contracts")


@bp.get("")
@endpoint(
    summary="我的劳动合同",
    access=Access.kinds("person", bound=True),
    response=MyContracts,
    errors=(E.NOT_OWN_RECORD, E.MEMBER_NOT_FOUND),
)
async def my_contracts(request: Request, member_id: int, principal: Principal) -> HTTPResponse:
    """The contracts of one of the caller's own memberships, with the missing-contract warning."""
    return ok(await personal.my_contracts(principal, member_id))
