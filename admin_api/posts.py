"""Post personnel (岗位人员管理): supervision / GC / subcontractor staff and duty records (履职)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import fields_of, upload_of
from realname.web import audit_project, ok, page, paging, project_access
from services import labour, posts
from services.identity import MANAGE, VIEW

bp = Blueprint("admin_posts", url_prefix="/projects")


@bp.get("/<code:str>/posts/options")
async def post_options(request: Request, code: str) -> HTTPResponse:
    """The tabs (监理 / 总包 / 分包) with their posts, and the units to pick from."""
    access = await project_access(request, code, VIEW)
    return ok({"categories": posts.options(), "units": await labour.construction_units(access)})


@bp.get("/<code:str>/posts")
async def list_posts(request: Request, code: str) -> HTTPResponse:
    """Post personnel of one tab (``category`` = supervision | gc | sub)."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    rows, total = await posts.list_post_personnel(
        access,
        request.args.get("category", ""),
        work_status=request.args.get("work_status", ""),
        page=page_no,
        size=size,
    )
    return page(rows, total)


@bp.post("/<code:str>/posts")
async def add_post_person(request: Request, code: str) -> HTTPResponse:
    """添加人员: an enrolled person (by ID number) as post personnel of a unit, with a post."""
    access = await project_access(request, code, MANAGE)
    member = await posts.add_post_person(access, fields_of(request))
    await audit_project(
        request,
        access,
        "post.add",
        target=f"member:{member.id}",
        detail={"post": member.post},
    )
    return ok(labour.member_public(member, labour.show_pii(access)), status=201)


@bp.patch("/<code:str>/posts/<member_id:int>")
async def change_post(request: Request, code: str, member_id: int) -> HTTPResponse:
    """Change a post person's post."""
    access = await project_access(request, code, MANAGE)
    member = await posts.change_post(access, member_id, fields_of(request))
    await audit_project(
        request,
        access,
        "post.change",
        target=f"member:{member.id}",
        detail={"post": member.post},
    )
    return ok(labour.member_public(member, labour.show_pii(access)))


@bp.post("/<code:str>/posts/<member_id:int>/exit")
async def exit_post_person(request: Request, code: str, member_id: int) -> HTTPResponse:
    """A post person leaves the project (离职)."""
    access = await project_access(request, code, MANAGE)
    member = await posts.exit_post_person(access, member_id, fields_of(request))
    await audit_project(
        request,
        access,
        "post.exit",
        target=f"member:{member.id}",
    )
    return ok(labour.member_public(member, labour.show_pii(access)))


@bp.get("/<code:str>/duty-records")
async def list_duty(request: Request, code: str) -> HTTPResponse:
    """Duty records of one kind (``kind`` = supervision_meeting | pm_duty)."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    rows, total = await posts.list_duty(
        access, request.args.get("kind", ""), page=page_no, size=size
    )
    return page(rows, total)


@bp.get("/<code:str>/duty-records/hosts")
async def duty_hosts(request: Request, code: str) -> HTTPResponse:
    """Who can be chosen as 主持人 (meeting) or 项目负责人 (PM duty)."""
    access = await project_access(request, code, VIEW)
    rows = await posts.host_choices(access, request.args.get("kind", ""))
    return page(rows, len(rows))


@bp.post("/<code:str>/duty-records")
async def register_duty(request: Request, code: str) -> HTTPResponse:
    """登记: a duty record (multipart: kind, duty_date, host_member_id, content, ``file``)."""
    access = await project_access(request, code, MANAGE)
    record = await posts.register_duty(
        access,
        fields_of(request),
        upload_of(request, "file"),
        request.app.ctx.files,
        request.app.ctx.settings.max_upload_bytes,
    )
    await audit_project(
        request,
        access,
        "duty.register",
        target=f"duty:{record.id}",
        detail={"kind": str(record.kind)},
    )
    return ok(posts.duty_public(record), status=201)
