"""File downloads: a project's stored files, served only to those allowed to see the record."""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.errors import NotFound
from realname.web import private_file
from services import labour
from services.identity import VIEW, ProjectAccess

bp = Blueprint("admin_files", url_prefix="/projects")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 original name (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/<code:str>/files/<file_id:int>")
@endpoint(
    summary="下载项目文件",
    access=Access.project(VIEW),
    response="binary",
    content_type="application/octet-stream",
    errors=(E.FILE_NOT_FOUND, E.FILE_FORBIDDEN, E.FILE_MISSING),
)
async def download(request: Request, file_id: int, access: ProjectAccess) -> HTTPResponse:
    """Download one file of the project (sniffed content type, original name)."""
    stored = await labour.file_for_download(access, file_id)
    return await private_file(
        request,
        stored.key,
        missing=NotFound(E.FILE_MISSING.message, code=E.FILE_MISSING.code),
        content_type=stored.content_type,
        headers={"Content-Disposition": content_disposition(stored.name)},
    )
