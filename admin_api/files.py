"""File downloads: a project's stored files, served only to those allowed to see the record."""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from realname.errors import NotFound
from realname.web import project_access
from services import labour
from services.identity import VIEW

bp = Blueprint("admin_files", url_prefix="/projects")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 original name (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/<code:str>/files/<file_id:int>")
async def download(request: Request, code: str, file_id: int) -> HTTPResponse:
    """Download one file of the project (sniffed content type, original name)."""
    access = await project_access(request, code, VIEW)
    stored = await labour.file_for_download(access, file_id)
    try:
        data = await request.app.ctx.files.get(stored.key)
    except FileNotFoundError as exc:
        raise NotFound("文件已丢失，请重新上传", code="file_missing") from exc
    return raw(
        data,
        content_type=stored.content_type,
        headers={
            "Content-Disposition": content_disposition(stored.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
