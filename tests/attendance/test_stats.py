"""打卡统计 / 出勤时长统计: cells, totals, every filter, paging, masking, access, export."""

from __future__ import annotations

import io

import openpyxl

from models import AuditLog
from tests.attendance.conftest import stats_world
from tests.attendance.helpers import EXPORT_MEMBER_COLUMNS
from tests.factories import auth, enterprise_token, make_enterprise

URL = "/admin/v1/projects/{}/attendance/{}"


async def _get(client, redis, w, ent="gc", kind="punch-stats", **params):
    token = await enterprise_token(redis, w.world.enterprises[ent])
    params.setdefault("month", "2028-02")
    return await client.get(
        URL.format(w.world.project.code, kind), params=params, headers=auth(token)
    )


async def test_punch_stats_cells_and_totals(client, redis) -> None:
    """Per-day states, 出勤天数 and 有效出勤天数; a stale open day is settled on read."""
    w = await stats_world()
    r = await _get(client, redis, w)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4
    rows = {row["member_id"]: row for row in body["data"]}
    assert [row["index"] for row in body["data"]] == [1, 2, 3, 4]
    m1 = rows[w.m1.id]
    assert len(m1["days"]) == 29  # leap February
    assert m1["days"][28] == {"day": 29, "date": "2028-02-29", "state": "normal", "future": False}
    assert m1["days"][0]["state"] == "abnormal"
    assert m1["days"][1]["state"] == "absent"
    assert (m1["attendance_days"], m1["effective_days"]) == (2, 1)
    assert m1["name"] == "张三丰" and m1["person_type_label"] == "劳务人员"
    assert m1["work_type_or_post"] == "钢筋工" and m1["work_status_label"] == "在职"
    assert m1["team_name"] == w.world.team.name
    assert m1["unit_name"] == w.world.enterprises["gc"].name
    m2 = rows[w.m2.id]
    assert m2["days"][9]["state"] == "normal"  # closed day never shown as today
    assert m2["work_type_or_post"] == "项目经理" and m2["team_name"] == ""
    m4 = rows[w.m4.id]
    assert (m4["attendance_days"], m4["effective_days"]) == (0, 0)
    assert {c["state"] for c in m4["days"]} == {"absent"}


async def test_days_still_to_come_are_blank_not_absent(client, redis) -> None:
    """The month holding the project's today (10 March 2028 on site): the days after it are
    ``future`` (the grid leaves them blank, the export too), not 31 X on the month's first days."""
    w = await stats_world()
    for kind in ("punch-stats", "duration-stats"):
        r = await _get(client, redis, w, kind=kind, month="2028-03")
        assert r.status_code == 200, r.text
        for row in r.json()["data"]:
            days = row["days"]
            assert [c["future"] for c in days] == [False] * 10 + [True] * 21
            assert row["attendance_days"] == 0
    r = await _get(client, redis, w, kind="punch-stats", month="2028-02")
    assert not any(c["future"] for row in r.json()["data"] for c in row["days"])
    r = await _get(client, redis, w, format="xlsx", month="2028-03")
    assert r.status_code == 200, r.text
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    for row in rows[1:]:
        assert row[9 : 9 + 10] == ("X",) * 10  # 1-10 March: absent
        assert row[9 + 10 : 9 + 31] == (None,) * 21  # 11-31 March: blank
    r = await _get(client, redis, w, kind="duration-stats", format="xlsx", month="2028-04")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert all(row[9 : 9 + 30] == (None,) * 30 for row in rows[1:])  # a month still to come


async def test_duration_stats_hours(client, redis) -> None:
    """Hours per normal day, 0 for grey days, 有效出勤时长 the month's normal hours."""
    w = await stats_world()
    body = (await _get(client, redis, w, kind="duration-stats")).json()
    rows = {row["member_id"]: row for row in body["data"]}
    m1 = rows[w.m1.id]
    assert m1["days"][28]["hours"] == 9.0 and m1["days"][0]["hours"] == 0
    assert m1["effective_hours"] == 9.0 and m1["attendance_days"] == 2
    assert rows[w.m3.id]["effective_hours"] == 3.5
    assert rows[w.m2.id]["effective_hours"] == 10.0


async def test_every_filter(client, redis) -> None:
    """person_type, work_status, unit, team and q (name, ID number, phone)."""
    w = await stats_world()

    async def ids(**params):
        r = await _get(client, redis, w, **params)
        assert r.status_code == 200, r.text
        return {row["member_id"] for row in r.json()["data"]}

    assert await ids(person_type="management") == {w.m2.id}
    assert await ids(person_type="labour") == {w.m1.id, w.m3.id, w.m4.id}
    assert await ids(work_status="left") == {w.m3.id}
    assert await ids(work_status="active") == {w.m1.id, w.m2.id, w.m4.id}
    assert await ids(unit=str(w.sub.id)) == {w.m3.id}
    assert await ids(team=str(w.team_b.id)) == {w.m3.id}
    assert await ids(team=str(w.world.team.id)) == {w.m1.id, w.m4.id}
    assert await ids(q="三丰") == {w.m1.id}
    assert await ids(q=w.m1_id_number) == {w.m1.id}
    assert await ids(q=w.m1_id_number.lower()) == {w.m1.id}
    assert await ids(q=w.m1_phone) == {w.m1.id}
    assert await ids(q="19999999999") == set()
    assert await ids(
        person_type="labour", work_status="active", team=str(w.world.team.id), q="张"
    ) == {w.m1.id}
    r = await _get(client, redis, w, person_type="boss")
    assert r.status_code == 422 and r.json()["field"] == "person_type"
    r = await _get(client, redis, w, unit="x")
    assert r.status_code == 422 and r.json()["field"] == "unit"
    r = await _get(client, redis, w, month="2028-13")
    assert r.status_code == 422 and r.json()["field"] == "month"


async def test_paging(client, redis) -> None:
    """page/page_size slice the rows; 序号 continues across pages; total is the filtered count."""
    w = await stats_world()
    body = (await _get(client, redis, w, page="2", page_size="3")).json()
    assert body["total"] == 4 and len(body["data"]) == 1
    assert body["data"][0]["index"] == 4 and body["data"][0]["member_id"] == w.m4.id


async def test_masking_and_visibility(client, redis) -> None:
    """The GC sees full ID numbers; the builder sees them masked; a subcontractor sees only its
    own unit; a company not on the project is refused."""
    w = await stats_world()
    gc = {r["member_id"]: r for r in (await _get(client, redis, w)).json()["data"]}
    assert gc[w.m1.id]["id_number"] == w.m1_id_number and gc[w.m1.id]["phone"] == w.m1_phone
    builder = {
        r["member_id"]: r for r in (await _get(client, redis, w, ent="builder")).json()["data"]
    }
    assert builder[w.m1.id]["id_number"] == f"{w.m1_id_number[:6]}*****{w.m1_id_number[-4:]}"
    assert builder[w.m1.id]["phone"] == f"{w.m1_phone[:3]}****{w.m1_phone[-4:]}"
    sub = (await _get(client, redis, w, ent="sub")).json()
    assert sub["total"] == 1 and sub["data"][0]["member_id"] == w.m3.id
    w.world.enterprises["stranger"] = await make_enterprise()
    r = await _get(client, redis, w, ent="stranger")
    assert r.status_code == 404
    r = await client.get(URL.format(w.world.project.code, "punch-stats"))
    assert r.status_code == 401


async def test_export_punch_stats_xlsx(client, redis) -> None:
    """The .xlsx has the manual's headers, masked values for the builder, ✓/X cells; audited."""
    w = await stats_world()
    r = await _get(client, redis, w, ent="builder", format="xlsx", work_status="active")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [
        *EXPORT_MEMBER_COLUMNS,
        *[str(d) for d in range(1, 30)],
        "出勤天数",
        "有效出勤天数",
    ]
    assert ws.freeze_panes == "A2"
    assert len(rows) == 1 + 3  # m3 has left
    m1 = next(row for row in rows[1:] if row[6] == "张三丰")
    assert m1[0] == 1 and m1[3] == "劳务人员" and m1[5] == "在职"
    assert m1[7] == f"{w.m1_id_number[:6]}*****{w.m1_id_number[-4:]}"
    assert m1[8] == f"{w.m1_phone[:3]}****{w.m1_phone[-4:]}"
    assert m1[9 + 28] == "✓" and m1[9] == "✓" and m1[10] == "X"
    assert ws.cell(row=rows.index(m1) + 1, column=9 + 29).font.color.rgb.endswith("1E8E3E")
    assert ws.cell(row=rows.index(m1) + 1, column=10).font.color.rgb.endswith("9AA0A6")
    assert m1[-2:] == (2, 1)
    log = await AuditLog.filter(
        project_id=w.world.project.id, action="attendance.export.punch_stats"
    ).first()
    assert log is not None and log.detail["rows"] == 3 and log.detail["full_pii"] is False
    assert log.detail["filters"]["work_status"] == "active"


async def test_export_duration_stats_full_pii(client, redis) -> None:
    """The GC's duration export has full ID numbers and hours per day."""
    w = await stats_world()
    r = await _get(client, redis, w, kind="duration-stats", format="xlsx")
    assert r.status_code == 200, r.text
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "有效出勤时长" and rows[0][-2] == "出勤天数"
    m1 = next(row for row in rows[1:] if row[6] == "张三丰")
    assert m1[7] == w.m1_id_number
    assert m1[9 + 28] == 9 and m1[9] == 0 and m1[10] == 0 and m1[-1] == 9
    assert len(rows) == 5


async def test_stats_replies_match_the_declared_rows(client, redis) -> None:
    """Both grids' replies validate (strict) against StatsPage, whose rows the console types."""
    from services.schemas.attendance import StatsPage

    w = await stats_world()
    for kind in ("punch-stats", "duration-stats"):
        r = await _get(client, redis, w, kind=kind)
        page = StatsPage.model_validate_json(r.content, strict=True)
        assert page.total == 4 and {c.state for c in page.data[0].days} <= {
            "normal",
            "abnormal",
            "today",
            "absent",
        }
        assert (page.data[0].effective_hours is None) == (kind == "punch-stats")
