"""An export's workbook never outlives its request: a client gone at any step leaves no file."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from admin_api._exports import send_written
from models import AuditLog
from services import identity
from tests.factories import enterprise_token, make_project


async def test_export_cancelled_while_audited_leaves_no_workbook(app, redis, tmp_path) -> None:
    """The client goes away while the export is being audited (between the workbook written and
    its streaming): the request is cancelled there, and the written workbook is removed."""
    world = await make_project()
    token = await enterprise_token(redis, world.enterprises["gc"])
    access = await identity.project_access(
        await identity.resolve_token(redis, token), world.project.code
    )
    workbook = tmp_path / "written.xlsx"
    workbook.write_bytes(b"PK\x03\x04 a written workbook")
    # the request as far as auditing reads it (who calls from where); streaming is never reached
    request = SimpleNamespace(ctx=SimpleNamespace(client_ip="127.0.0.1"))
    target = f"cancelled:{world.project.code}"
    sending = asyncio.create_task(
        send_written(
            request,  # type: ignore[arg-type]
            access,
            "roster.export",
            str(workbook),
            3,
            filename="花名册.xlsx",
            target=target,
            detail={},
        )
    )
    await asyncio.sleep(0)  # the task runs up to the audit entry's write and waits there
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert not workbook.exists()
    # nothing was streamed; whether the entry landed depends on where the write was cut
    assert await AuditLog.filter(target=target).count() <= 1
