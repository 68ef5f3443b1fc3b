"""Times in replies and exports are the project's local time (issue 15, item 6).

A project with data in every area is built, then the list (and detail) replies of every area are
walked: any timestamp must read ``YYYY-MM-DDTHH:MM:SS+08:00`` (ISO 8601, the project's offset,
whole seconds); a date must be a bare ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import openpyxl

from models import Direction, Project
from services import localtime
from services.attendance import settle_days
from tests.attendance.helpers import punch
from tests.attendance.test_supplement import _chain_world, _file
from tests.devices.helpers import call, make_device
from tests.factories import (
    auth,
    enterprise_token,
    make_contract,
    make_member,
    person_token,
    regulator_token,
)
from tests.projectinfo.test_status_changes import apply
from tests.projectinfo.test_units import unit_form

UTC = dt.UTC
# An 07:34 punch in Qinghai is 23:34 UTC the day before (stored with microseconds on purpose).
PUNCH_IN = dt.datetime(2026, 10, 31, 23, 34, 0, 250_000, tzinfo=UTC)
PUNCH_OUT = dt.datetime(2026, 11, 1, 9, 10, 5, tzinfo=UTC)
DAY = dt.date(2026, 11, 1)

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
_BAD = [
    (re.compile(r"\d{2}:\d{2}:\d{2}\.\d+"), "microseconds"),
    (re.compile(r"[+-]00:00\b|\d{2}:\d{2}(:\d{2})?Z\b"), "UTC offset"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]00:00:00(?![+-])"), "a date rendered with a time"),
]


def violations(value: Any, path: str = "$") -> list[str]:
    """Every string in a JSON value that shows a time other than as a local ISO timestamp."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += violations(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += violations(v, f"{path}[{i}]")
    elif isinstance(value, str):
        for pattern, why in _BAD:
            if pattern.search(value):
                found.append(f"{path}: {value!r} ({why})")
                break
        else:
            if _TIMESTAMP.match(value) and not _LOCAL.match(value):
                found.append(f"{path}: {value!r} (not ISO 8601 local with offset)")
    return found


def timestamps(value: Any) -> list[str]:
    """Every local timestamp string in a JSON value."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in timestamps(v)]
    if isinstance(value, list):
        return [t for v in value for t in timestamps(v)]
    return [value] if isinstance(value, str) and _LOCAL.match(value) else []


def test_violations_catch_each_wrong_shape():
    assert violations({"t": "2026-11-01T07:34:00+08:00", "d": "2026-11-01"}) == []
    for bad in (
        "2026-10-31 23:34:00+00:00",
        "2026-10-31T23:34:00Z",
        "2026-11-01T07:34:00.250000+08:00",
        "2026-11-01 00:00:00",
        "2026-11-01T07:34:00",
        "2026-11-01 07:34",
    ):
        assert violations({"x": [bad]}), bad


def test_encoder_renders_local_iso_seconds_and_plain_dates():
    tz = localtime.zone("Asia/Shanghai")
    localtime.reset_reply_zone()
    assert localtime.json_default(PUNCH_IN) == "2026-11-01T07:34:00+08:00"
    assert localtime.json_default(DAY) == "2026-11-01"
    assert localtime.json_default(dt.time(7, 34, 0, 5)) == "07:34:00"
    assert localtime.json_default(PUNCH_IN.replace(tzinfo=None)) == "2026-11-01T07:34:00+08:00"
    assert localtime.excel_value(PUNCH_IN, tz) == dt.datetime(2026, 11, 1, 7, 34)
    assert localtime.zone("Not/AZone") == localtime.default_zone()
    # a project in another zone shows its own offset
    urumqi = Project(code="x", name="x", timezone="Asia/Urumqi")
    localtime.use_project(urumqi)
    try:
        assert localtime.json_default(PUNCH_IN) == "2026-11-01T05:34:00+06:00"
    finally:
        localtime.reset_reply_zone()


async def test_every_area_replies_in_project_local_time(client, redis):
    world, _, people = await _chain_world()
    worker = await make_member(world, entry_date=dt.date(2026, 10, 1))
    await make_contract(
        worker,
        end_date=dt.date(2027, 9, 30),
        termination_initiated_at=PUNCH_IN,  # a moment stored with microseconds
    )
    code = world.project.code
    gc = await enterprise_token(redis, world.enterprises["gc"])
    county = await regulator_token(redis, "630102")
    await punch(worker, PUNCH_IN, Direction.IN)
    await punch(worker, PUNCH_OUT, Direction.OUT)
    await punch(worker, PUNCH_OUT + dt.timedelta(minutes=1), accepted=False, reason="no_liveness")
    await settle_days(world.project.id, [(worker.id, DAY)], today=DAY + dt.timedelta(days=1))
    r = await _file(client, redis, world, worker, date="2026-11-02")
    assert r.status_code == 201, r.text
    supplement_id = r.json()["id"]
    r = await apply(client, world, gc)
    assert r.status_code == 201, r.text
    change_id = r.json()["id"]
    r = await client.post(
        "/admin/v1/announcements",
        json={"title": "冬季施工通知", "content": "各项目："},
        headers=auth(county),
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/admin/v1/projects/{code}/units", json=unit_form(), headers=auth(gc))
    assert r.status_code == 201, r.text
    unit_id = r.json()["id"]
    dev = await make_device(world)
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0"})
    assert r.status_code == 200, r.text
    assert violations(r.json()) == [] and r.json()["server_time"].endswith("+08:00")

    base = f"/admin/v1/projects/{code}"
    month = DAY.strftime("%Y-%m")
    admin = [
        "/admin/v1/auth/me",
        "/admin/v1/projects",
        base,
        f"{base}/workbench",
        f"{base}/announcements",
        f"{base}/attendance/punch-stats?month={month}",
        f"{base}/attendance/duration-stats?month={month}",
        f"{base}/attendance/members/{worker.id}/month?month={month}",
        f"{base}/attendance/members/{worker.id}/punches?date={DAY}",
        f"{base}/attendance/summary",
        f"{base}/supplements",
        f"{base}/supplements/{supplement_id}",
        f"{base}/devices",
        f"{base}/devices/{dev.sn}",
        f"{base}/teams",
        f"{base}/teams/{world.team.id}/members",
        f"{base}/members/{worker.id}",
        f"{base}/contracts",
        f"{base}/contracts/unsigned",
        f"{base}/posts?category=gc",
        f"{base}/roster",
        f"{base}/units",
        f"{base}/units/{unit_id}",
        f"{base}/materials/monthly?year=2026",
        f"{base}/materials/wage-account",
        f"{base}/status-changes",
        f"{base}/status-changes/{change_id}",
        f"{base}/binding-requests?status=all",
        f"{base}/audit",
    ]
    regulator = [
        "/admin/v1/reviews/status-changes",
        f"/admin/v1/reviews/status-changes/{change_id}",
        "/admin/v1/announcements",
        f"{base}/audit",
    ]
    worker_token = await person_token(redis, await worker.person)
    pm_token = await person_token(redis, people["pm"])
    mini_worker = [
        "/miniapp/v1/projects",
        f"/miniapp/v1/members/{worker.id}/attendance?month={month}",
        f"/miniapp/v1/members/{worker.id}/contracts",
        "/miniapp/v1/announcements",
    ]
    mini_pm = ["/miniapp/v1/approvals", f"/miniapp/v1/projects/{code}/summary"]
    seen: list[str] = []
    problems: list[str] = []
    for token, urls in ((gc, admin), (county, regulator), (worker_token, mini_worker)):
        for url in urls:
            r = await client.get(url, headers=auth(token))
            assert r.status_code == 200, (url, r.text)
            problems += [f"{url} {p}" for p in violations(r.json())]
            seen += timestamps(r.json())
    for url in mini_pm:
        r = await client.get(url, headers=auth(pm_token))
        assert r.status_code == 200, (url, r.text)
        problems += [f"{url} {p}" for p in violations(r.json())]
        seen += timestamps(r.json())
    r = await client.get("/admin/v1/public/projects", params={"name": world.project.name})
    problems += violations(r.json())
    assert not problems, "\n".join(problems)
    assert "2026-11-01T07:34:00+08:00" in seen  # the punch, in Qinghai time
    assert len(seen) >= 20

    # Excel: the roster's 进场日期 is a date cell
    r = await client.get(f"{base}/roster/export", headers=auth(gc))
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    entry = [row[header.index("进场日期")] for row in rows if row[1] == (await worker.person).name]
    assert entry == [dt.datetime(2026, 10, 1)]
