"""Streamed .xlsx exports with constant memory, for any list screen (statistics, roster...).

Give a sheet its columns (header + width) and an async iterator of row batches; rows go into
xlsxwriter in ``constant_memory`` mode (one row in memory at a time) on a temp file, off the event
loop, and the file is then sent in chunks. A cell is a plain value, or a :class:`Cell` carrying a
named style (for the green/grey ✓ of the attendance statistics). Datetime cells show the
project's local time without microseconds (``services.localtime``), dates as dates.

    columns = [Column("序号", 6), Column("姓名", 10)]
    path, n = await write_xlsx(columns, batches(), sheet="花名册", styles={"red": {...}})
    await stream_file(request, path, filename="花名册.xlsx")
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import AsyncIterable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import xlsxwriter

from realname.dbclient import run_to_completion
from services import localtime

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_BYTES = 256 * 1024
HEADER_STYLE = {
    "bold": True,
    "bg_color": "#D9E1F2",
    "border": 1,
    "align": "center",
    "valign": "vcenter",
    "text_wrap": True,
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header text and width (in characters)."""

    header: str
    width: float = 12


@dataclass(frozen=True, slots=True)
class Cell:
    """A value written with one of the sheet's named styles."""

    value: Any
    style: str


class XlsxSheet:
    """A constant-memory workbook with one sheet: frozen header row, set widths, named styles."""

    def __init__(
        self,
        path: str,
        columns: Sequence[Column],
        sheet: str = "Sheet1",
        styles: dict[str, dict[str, Any]] | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.tz = tz or localtime.reply_zone()
        self.workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "tmpdir": os.path.dirname(path) or None,
            },
        )
        self.sheet = self.workbook.add_worksheet(sheet[:31])
        add = self.workbook.add_format
        self.styles = {name: add(spec) for name, spec in (styles or {}).items()}
        header = self.workbook.add_format(HEADER_STYLE)
        self.datetime_format = add({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.date_format = add({"num_format": "yyyy-mm-dd"})
        for i, col in enumerate(columns):
            self.sheet.set_column(i, i, col.width)
        self.sheet.write_row(0, 0, [c.header for c in columns], header)
        self.sheet.freeze_panes(1, 0)
        self.rows = 0

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows (in order: constant-memory mode cannot go back)."""
        write = self.sheet.write
        styles = self.styles
        for row in rows:
            self.rows += 1
            r = self.rows
            for c, value in enumerate(row):
                if value is None:
                    continue
                if type(value) is Cell:
                    write(r, c, value.value, styles[value.style])
                elif isinstance(value, dt.datetime):
                    local = localtime.excel_value(value, self.tz)
                    self.sheet.write_datetime(r, c, local, self.datetime_format)
                elif isinstance(value, dt.date):
                    self.sheet.write_datetime(r, c, value, self.date_format)
                else:
                    write(r, c, value)

    def close(self) -> None:
        """Finish the file."""
        self.workbook.close()


async def write_xlsx(
    columns: Sequence[Column],
    batches: AsyncIterable[Iterable[Sequence[Any]]],
    *,
    sheet: str = "Sheet1",
    styles: dict[str, dict[str, Any]] | None = None,
    tmpdir: str | None = None,
    tz: ZoneInfo | None = None,
) -> tuple[str, int]:
    """Write row batches to a temp .xlsx (xlsxwriter work off the event loop); (path, rows).

    Datetimes are written in `tz`, by default the zone of the current reply (the project's).
    """
    tz = tz or localtime.reply_zone()
    # xlsxwriter keeps a temp file per sheet beside the workbook until it is closed: work in a
    # folder of our own, so an export cancelled half way (client gone, shutdown) leaves nothing.
    # A thread step runs to its end even when the request is cancelled meanwhile, so nothing
    # writes into the folder after it is removed.
    workdir = tempfile.mkdtemp(prefix="xlsx-", dir=tmpdir)
    try:
        work = os.path.join(workdir, "export.xlsx")
        book = await run_to_completion(
            asyncio.to_thread(XlsxSheet, work, columns, sheet, styles, tz)
        )
        async for batch in batches:
            await run_to_completion(asyncio.to_thread(book.write_rows, list(batch)))
        await run_to_completion(asyncio.to_thread(book.close))
        fd, path = tempfile.mkstemp(suffix=".xlsx", dir=tmpdir)
        os.close(fd)
        os.replace(work, path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return path, book.rows


def content_disposition(filename: str) -> str:
    """An attachment header that carries a Chinese file name (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


async def stream_file(
    request: Any, path: str, *, filename: str, content_type: str = XLSX_TYPE, remove: bool = True
) -> None:
    """Send a file to the client in chunks (constant memory), then delete it.

    The reply is complete when this returns: the handler returns None (Sanic logs an error for a
    response object returned after the request was responded to)."""
    try:
        size = os.path.getsize(path)
        response = await request.respond(
            content_type=content_type,
            headers={
                "Content-Disposition": content_disposition(filename),
                "Content-Length": str(size),
                "Cache-Control": "no-store",
            },
        )
        with open(path, "rb") as fh:  # noqa: ASYNC230 - chunks are small and local
            while chunk := fh.read(CHUNK_BYTES):
                await response.send(chunk)
        await response.eof()
    finally:
        if remove:
            os.unlink(path)
