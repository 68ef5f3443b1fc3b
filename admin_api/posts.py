"""Post personnel (岗位人员管理): supervision / GC / subcontractor staff and duty records (履职)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import upload_of
from models import ProjectMember
from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import audit_request, every, ok, page
from services import labour, posts
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.labour import MemberPublic
from services.schemas.posts import (
    DutyCreate,
    DutyHost,
    DutyQuery,
    DutyRecordPublic,
    HostsQuery,
    PostAdd,
    PostChange,
    PostExit,
    PostOptions,
    PostsQuery,
)

bp = Blueprint("admin_posts", url_prefix="/projects")


async def _changed(
    request: Request,
    access: ProjectAccess,
    action: str,
    member: ProjectMember,
    detail: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTTPResponse:
    """A post person changed: audited as `action`, answered with the member."""
    await audit_request(request, access, action, target=f"member:{member.id}", detail=detail)
    return ok(labour.member_public(member, labour.show_pii(access)), status=status)


@bp.get("/<code:str>/posts/options")
@endpoint(summary="岗位人员类别与岗位", access=Access.project(VIEW), response=PostOptions)
async def post_options(request: Request, access: ProjectAccess) -> HTTPResponse:
    """The tabs (监理 / 总包 / 分包) with their posts, and the units to pick from."""
    return ok({"categories": posts.options(), "units": await labour.construction_units(access)})


@bp.get("/<code:str>/posts")
@endpoint(
    summary="岗位人员列表",
    access=Access.project(VIEW),
    response=Page[MemberPublic],
    errors=(E.INVALID_CATEGORY,),
)
async def list_posts(request: Request, query: PostsQuery, access: ProjectAccess) -> HTTPResponse:
    """Post personnel of one tab (``category`` = supervision | gc | sub)."""
    rows, total = await posts.list_post_personnel(
        access, query.category, work_status=query.work_status, page=query.page, size=query.page_size
    )
    return page(rows, total)


@bp.post("/<code:str>/posts")
@endpoint(
    summary="添加岗位人员",
    access=Access.project(MANAGE),
    form=True,
    response=MemberPublic,
    status=201,
    errors=(
        E.INVALID_CATEGORY,
        E.INVALID_POST,
        E.UNIT_NOT_ON_PROJECT,
        E.PERSON_NOT_ENROLLED,
        E.INVALID_ID_NUMBER,
        E.ALREADY_MEMBER,
    ),
)
async def add_post_person(request: Request, body: PostAdd, access: ProjectAccess) -> HTTPResponse:
    """添加人员: an enrolled person (by ID number) as post personnel of a unit, with a post."""
    member = await posts.add_post_person(access, body)
    return await _changed(request, access, "post.add", member, {"post": member.post}, status=201)


@bp.patch("/<code:str>/posts/<member_id:int>")
@endpoint(
    summary="变更岗位",
    access=Access.project(MANAGE),
    form=True,
    response=MemberPublic,
    errors=(E.MEMBER_NOT_FOUND, E.INVALID_POST),
)
async def change_post(
    request: Request, member_id: int, body: PostChange, access: ProjectAccess
) -> HTTPResponse:
    """Change a post person's post."""
    member = await posts.change_post(access, member_id, body)
    return await _changed(request, access, "post.change", member, {"post": member.post})


@bp.post("/<code:str>/posts/<member_id:int>/exit")
@endpoint(
    summary="岗位人员离职",
    access=Access.project(MANAGE),
    form=True,
    response=MemberPublic,
    errors=(E.MEMBER_NOT_FOUND, E.MEMBER_LEFT, E.INVALID_DATE),
)
async def exit_post_person(
    request: Request, member_id: int, body: PostExit, access: ProjectAccess
) -> HTTPResponse:
    """A post person leaves the project (离职)."""
    member = await posts.exit_post_person(access, member_id, body)
    return await _changed(request, access, "post.exit", member)


@bp.get("/<code:str>/duty-records")
@endpoint(
    summary="履职记录列表",
    access=Access.project(VIEW),
    response=Page[DutyRecordPublic],
    errors=(E.INVALID_KIND,),
)
async def list_duty(request: Request, query: DutyQuery, access: ProjectAccess) -> HTTPResponse:
    """Duty records of one kind (``kind`` = supervision_meeting | pm_duty)."""
    rows, total = await posts.list_duty(access, query.kind, page=query.page, size=query.page_size)
    return page(rows, total)


@bp.get("/<code:str>/duty-records/hosts")
@endpoint(
    summary="可选主持人/项目负责人",
    access=Access.project(VIEW),
    response=Page[DutyHost],
    errors=(E.INVALID_KIND,),
)
async def duty_hosts(request: Request, query: HostsQuery, access: ProjectAccess) -> HTTPResponse:
    """Who can be chosen as 主持人 (meeting) or 项目负责人 (PM duty)."""
    return every(await posts.host_choices(access, query.kind))


@bp.post("/<code:str>/duty-records")
@endpoint(
    summary="登记履职记录",
    access=Access.project(MANAGE),
    form=True,
    files=("file",),
    response=DutyRecordPublic,
    status=201,
    errors=(E.INVALID_KIND, E.INVALID_HOST, E.INVALID_DATE, E.INVALID_FILE_TYPE, E.TOO_LARGE),
)
async def register_duty(request: Request, body: DutyCreate, access: ProjectAccess) -> HTTPResponse:
    """登记: a duty record (multipart: kind, duty_date, host_member_id, content, ``file``)."""
    record = await posts.register_duty(
        access,
        body,
        upload_of(request, "file"),
        request.app.ctx.files,
        request.app.ctx.settings.max_upload_bytes,
    )
    await audit_request(
        request,
        access,
        "duty.register",
        target=f"duty:{record.id}",
        detail={"kind": str(record.kind)},
    )
    return ok(posts.duty_public(record), status=201)
