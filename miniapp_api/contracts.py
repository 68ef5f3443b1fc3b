"""My labour contracts and their warnings (rule 4)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import ok, require_kind
from services import personal

bp = Blueprint("miniapp_contracts", url_prefix="/members/<member_id:int>/contracts")


@bp.get("")
async def my_contracts(request: Request, member_id: int) -> HTTPResponse:
    """The contracts of one of the caller's own memberships, with the missing-contract warning."""
    principal = await require_kind(request, "person")
    return ok(await personal.my_contracts(principal, member_id))
