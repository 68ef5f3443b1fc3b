"""Project roster (项目花名册): list, export, push personnel to terminals, face photo re-sync."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from realname.errors import Forbidden, NotFound
from realname.web import audit_project, ip_of, ok, page, paging, project_access
from services import audit, labour, roster
from services.exports import stream_file, write_xlsx
from services.identity import MANAGE, VIEW, VIEW_PII

bp = Blueprint("admin_roster", url_prefix="/projects")


@bp.get("/<code:str>/roster")
async def list_roster(request: Request, code: str) -> HTTPResponse:
    """The roster with filters (name, id_number, entry_from/to, gender, person_type)."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    rows, total, extra = await roster.list_roster(
        access, roster.RosterFilter.from_args(request.args), page=page_no, size=size
    )
    return page(rows, total, **extra)


@bp.get("/<code:str>/roster/export")
async def export_roster(request: Request, code: str) -> HTTPResponse:
    """导出花名册: the filtered roster as .xlsx (masked unless VIEW_PII; audited)."""
    access = await project_access(request, code, VIEW)
    filters = roster.RosterFilter.from_args(request.args)
    path, rows = await write_xlsx(
        roster.EXPORT_COLUMNS, roster.export_batches(access, filters), sheet="项目花名册"
    )
    await audit.record(
        "roster.export",
        principal=access.principal,
        project_id=access.project.id,
        target=f"project:{access.project.code}",
        ip=ip_of(request),
        detail={
            "rows": rows,
            "masked": not labour.show_pii(access),
            "filters": sorted(k for k, v in vars(filters).items() if v),
        },
    )
    return await stream_file(request, path, filename=f"{access.project.name}-花名册.xlsx")


@bp.post("/<code:str>/roster/push")
async def push_personnel(request: Request, code: str) -> HTTPResponse:
    """人员更新下发: queue a person sync on every terminal bound to the project."""
    access = await project_access(request, code, MANAGE)
    commands = await roster.push_personnel(access)
    await audit_project(
        request,
        access,
        "roster.push",
        detail={"devices": len(commands)},
    )
    return ok(
        {
            "devices": len(commands),
            "command_ids": [c.id for c in commands],
            "message": f"已向 {len(commands)} 台设备下发人员更新",
        }
    )


@bp.post("/<code:str>/roster/<member_id:int>/face-sync")
async def resync_face(request: Request, code: str, member_id: int) -> HTTPResponse:
    """重新下发人脸照片: ask the terminals for the person's latest face photo."""
    access = await project_access(request, code, MANAGE)
    commands = await roster.resync_face(access, member_id)
    await audit_project(
        request,
        access,
        "roster.face_sync",
        target=f"member:{member_id}",
    )
    return ok({"devices": len(commands), "command_ids": [c.id for c in commands]})


@bp.get("/<code:str>/roster/<member_id:int>/face")
async def face_photo(request: Request, code: str, member_id: int) -> HTTPResponse:
    """A member's collected face photo (biometric data: VIEW_PII only)."""
    access = await project_access(request, code, VIEW)
    if not access.can(VIEW_PII):
        raise Forbidden("无权查看人员照片", code="file_forbidden")
    key = await roster.face_key(access, member_id)
    try:
        data = await request.app.ctx.files.get(key)
    except FileNotFoundError as exc:
        raise NotFound(roster.MISSING_FACE_NOTICE, code="face_missing") from exc
    ctype = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return raw(
        data,
        content_type=ctype,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
