"""A subcontractor's .xlsx exports of 打卡统计 / 出勤时长统计 hold only its own unit's members,
like its screens: the export must not be a way around the unit scope."""

from __future__ import annotations

import io

import openpyxl

from models import AuditLog
from tests.attendance.conftest import stats_world
from tests.attendance.test_stats import _get


async def test_subcontractor_exports_only_its_own_unit(client, redis) -> None:
    w = await stats_world()
    for kind, action in (
        ("punch-stats", "attendance.export.punch_stats"),
        ("duration-stats", "attendance.export.duration_stats"),
    ):
        r = await _get(client, redis, w, ent="sub", kind=kind, format="xlsx")
        assert r.status_code == 200, r.text
        rows = list(
            openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
        )
        assert rows[0][1] == "所属单位"
        body = rows[1:]
        assert len(body) == 1, body  # m3 only: the GC's m1, m2, m4 are not its members
        assert body[0][0] == 1 and body[0][1] == w.world.enterprises["sub"].name
        assert body[0][2] == "B班组"
        log = (
            await AuditLog.filter(project_id=w.world.project.id, action=action)
            .order_by("-id")
            .first()
        )
        assert log is not None and log.detail["rows"] == 1
    # the GC, for comparison, exports all four members
    r = await _get(client, redis, w, format="xlsx")
    assert len(list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows())) == 1 + 4
