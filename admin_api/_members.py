"""A project member as the labour screens answer with it (人员详情, 班组添加人员, 编辑, 离职)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from models import ProjectMember
from realname.web import audit_request, ok
from services import contracts, labour, localtime
from services.identity import ProjectAccess


async def member_reply(
    access: ProjectAccess, member: ProjectMember, *, status: int = 200
) -> HTTPResponse:
    """The member with the wage card masked by the caller's role and the contract warning."""
    states = await contracts.contract_states([member], localtime.project_today(access.project))
    return ok(
        labour.member_public(member, labour.show_pii(access), states.get(member.id)), status=status
    )


async def member_changed(
    request: Request,
    access: ProjectAccess,
    action: str,
    member: ProjectMember,
    *,
    status: int = 200,
) -> HTTPResponse:
    """A member added or changed: audited as `action`, answered with `member_reply`."""
    await audit_request(request, access, action, target=f"member:{member.id}")
    return await member_reply(access, member, status=status)
