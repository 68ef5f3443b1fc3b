"""The .xlsx exports of a project (花名册, 操作日志, 考勤统计): written, audited, streamed."""

from __future__ import annotations

import contextlib
import os
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
    """Write `batches` as a .xlsx sheet and send it as ``<project name>-<title>.xlsx`` (see
    :func:`send_written`)."""
    path, rows = await write_xlsx(columns, batches, sheet=sheet)
    await send_written(
        request,
        access,
        action,
        path,
        rows,
        filename=f"{access.project.name}-{title}.xlsx",
        target=f"project:{access.project.code}",
        detail=detail,
    )


async def send_written(
    request: Request,
    access: ProjectAccess,
    action: str,
    path: str,
    rows: int,
    *,
    filename: str,
    target: str,
    detail: dict[str, Any],
) -> None:
    """Audit the export of a written workbook as `action` (its row count, then `detail`) and
    stream it; the reply is then complete. The file is removed whatever happens: a client gone
    while the export is audited (the request cancelled there) leaves no workbook behind."""
    try:
        await audit_request(request, access, action, target=target, detail={"rows": rows, **detail})
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    await stream_file(request, path, filename=filename)
