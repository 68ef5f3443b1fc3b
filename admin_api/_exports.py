"""The .xlsx exports of a project's lists (花名册, 操作日志): written, audited, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Sequence
from typing import Any

from sanic import Request

from realname.web import audit_request
from services.exports import Column, stream_file, write_xlsx
from services.identity import ProjectAccess


async def send_export(
    request: Request,
    access: ProjectAccess,
    action: str,
    *,
    columns: Sequence[Column],
    batches: AsyncIterable[Iterable[Sequence[Any]]],
    sheet: str,
    title: str,
    detail: dict[str, Any],
) -> None:
    """Write `batches` as a .xlsx sheet, audit the export as `action` (its row count first, then
    `detail`) and stream it as ``<project name>-<title>.xlsx``; the reply is then complete."""
    path, rows = await write_xlsx(columns, batches, sheet=sheet)
    await audit_request(
        request,
        access,
        action,
        target=f"project:{access.project.code}",
        detail={"rows": rows, **detail},
    )
    await stream_file(request, path, filename=f"{access.project.name}-{title}.xlsx")
