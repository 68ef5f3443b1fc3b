"""Project roster (项目花名册): list, export, push personnel to terminals, face photo re-sync."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._exports import send_export
from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.errors import Forbidden, NotFound
from realname.web import audit_request, ok, page, private_file
from services import labour, roster
from services.exports import XLSX_TYPE
from services.identity import MANAGE, VIEW, VIEW_PII, ProjectAccess
from services.schemas.roster import (
    FaceSyncReply,
    PushReply,
    RosterFilters,
    RosterPage,
    RosterQuery,
)

bp = Blueprint("admin_roster", url_prefix="/projects")


@bp.get("/<code:str>/roster")
@endpoint(
    summary="项目花名册",
    access=Access.project(VIEW),
    response=RosterPage,
    errors=(E.INVALID_DATE,),
)
async def list_roster(request: Request, query: RosterQuery, access: ProjectAccess) -> HTTPResponse:
    """The roster with filters (name, id_number, entry_from/to, gender, person_type)."""
    rows, total, extra = await roster.list_roster(
        access,
        roster.RosterFilter.from_args(query.args()),
        page=query.page,
        size=query.page_size,
    )
    return page(rows, total, **extra)


@bp.get("/<code:str>/roster/export")
@endpoint(
    summary="导出花名册",
    access=Access.project(VIEW),
    response="binary",
    content_type=XLSX_TYPE,
    errors=(E.INVALID_DATE,),
)
async def export_roster(
    request: Request, query: RosterFilters, access: ProjectAccess
) -> HTTPResponse | None:
    """导出花名册: the filtered roster as .xlsx (masked unless VIEW_PII; audited)."""
    filters = roster.RosterFilter.from_args(query.args())
    await send_export(
        request,
        access,
        "roster.export",
        columns=roster.EXPORT_COLUMNS,
        batches=roster.export_batches(access, filters),
        sheet="项目花名册",
        title="花名册",
        detail={
            "masked": not labour.show_pii(access),
            "filters": sorted(k for k, v in vars(filters).items() if v),
        },
    )
    return None


@bp.post("/<code:str>/roster/push")
@endpoint(
    summary="人员更新下发（花名册）",
    access=Access.project(MANAGE),
    response=PushReply,
    errors=(E.NO_TERMINALS, E.UNIT_FORBIDDEN),
)
async def push_personnel(request: Request, access: ProjectAccess) -> HTTPResponse:
    """人员更新下发: queue a person sync on every terminal bound to the project."""
    commands = await roster.push_personnel(access)
    await audit_request(request, access, "roster.push", detail={"devices": len(commands)})
    return ok(
        {
            "devices": len(commands),
            "command_ids": [c.id for c in commands],
            "message": f"已向 {len(commands)} 台设备下发人员更新",
        }
    )


@bp.post("/<code:str>/roster/<member_id:int>/face-sync")
@endpoint(
    summary="重新下发人脸照片",
    access=Access.project(MANAGE),
    response=FaceSyncReply,
    errors=(E.MEMBER_NOT_FOUND, E.MEMBER_LEFT, E.NO_TERMINALS),
)
async def resync_face(request: Request, member_id: int, access: ProjectAccess) -> HTTPResponse:
    """重新下发人脸照片: ask the terminals for the person's latest face photo."""
    commands = await roster.resync_face(access, member_id)
    await audit_request(request, access, "roster.face_sync", target=f"member:{member_id}")
    return ok({"devices": len(commands), "command_ids": [c.id for c in commands]})


@bp.get("/<code:str>/roster/<member_id:int>/face")
@endpoint(
    summary="人员人脸照片",
    access=Access.project(VIEW),
    response="binary",
    content_type="image/jpeg",
    errors=(E.FILE_FORBIDDEN, E.MEMBER_NOT_FOUND, E.FACE_MISSING),
)
async def face_photo(request: Request, member_id: int, access: ProjectAccess) -> HTTPResponse:
    """A member's collected face photo (biometric data: VIEW_PII only)."""
    if not access.can(VIEW_PII):
        raise Forbidden("无权查看人员照片", code=E.FILE_FORBIDDEN.code)
    return await private_file(
        request,
        await roster.face_key(access, member_id),
        missing=NotFound(roster.MISSING_FACE_NOTICE, code=E.FACE_MISSING.code),
    )
