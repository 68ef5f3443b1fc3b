"""Attendance benchmarks: statistics page, month export, re-settlement (issue 4).

A project of 3,000 members and a month of punches (~190,000; 300 members with ``--quick``):
(a) one page of 打卡统计 ÷ the best single SQL aggregate for the same figures (goal ≤ 2);
(b) the full month export ÷ xlsxwriter constant_memory writing the same cells from memory
    (goal ≤ 1.5), and the export's peak traced memory (goal < 150 MB);
(c) re-settling one day after a late punch ÷ a full-month settlement (goal < 1%).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
import tracemalloc
from typing import Any

from tortoise import Tortoise, connections

MONTH = "2025-06"
FIRST = dt.date(2025, 6, 1)
N_DAYS = 30


async def _open(engine: str, ctx: Any) -> None:
    from config.settings import Settings
    from realname import db

    if engine == "sqlite":
        path = ctx.tmpdir / "bench_attendance.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.unlink(f"{path}{suffix}")
        url = f"sqlite://{path}"
    else:
        url = ctx.postgres_url
        if "bench" not in url.rsplit("/", 1)[-1]:
            raise RuntimeError("the PostgreSQL bench database name must contain 'bench'")
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
    settings = Settings(env="test", database_url=url)
    # Tortoise caches each model's INSERT text per connection name ("default") across engines in
    # one process: drop it when switching from SQLite (``?``) to PostgreSQL (``$1``).
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await db.init_db(settings, create_schema=True)


async def _seed(n_members: int) -> tuple[Any, list[int]]:
    """A project, its units and teams, members and a month of punches (bulk inserts)."""
    from models import (
        Enterprise,
        ParticipatingUnit,
        Person,
        PersonType,
        Project,
        ProjectMember,
        Region,
        Team,
        UnitRole,
    )

    rng = random.Random(4)
    region = await Region.create(code="630102", name="城东区", level="county")
    project = await Project.create(code="BENCH-ATT", name="基准项目", region=region)
    units = []
    for i, role in enumerate(
        [UnitRole.GENERAL_CONTRACTOR, UnitRole.LABOUR_SUB, UnitRole.SPECIALTY_SUB]
    ):
        ent = await Enterprise.create(
            name=f"单位{i}有限公司", credit_code=f"9163010000000000{i:02d}"
        )
        units.append(await ParticipatingUnit.create(project=project, enterprise=ent, role=role))
    teams = [
        await Team.create(project=project, unit=units[i % 3], name=f"班组{i}") for i in range(12)
    ]
    await Person.bulk_create(
        [
            Person(
                name=f"工人{i:05d}",
                id_number_enc="x",
                id_number_bidx=f"bidx{i}",
                id_number_masked=f"630102*****{i:04d}",
                phone_masked=f"189****{i:04d}",
            )
            for i in range(n_members)
        ],
        batch_size=1000,
    )
    person_ids = await Person.all().order_by("id").values_list("id", flat=True)
    members = []
    for i, pid in enumerate(person_ids):
        team = teams[i % len(teams)]
        labour = i % 10 != 0
        members.append(
            ProjectMember(
                project=project,
                person_id=pid,
                unit_id=team.unit_id,
                team=team if labour else None,
                person_type=PersonType.LABOUR if labour else PersonType.MANAGEMENT,
                work_type="钢筋工" if labour else "",
                post="" if labour else "labour_officer",
                entry_date=FIRST,
                bank_card_enc="x",
            )
        )
    await ProjectMember.bulk_create(members, batch_size=1000)
    member_rows = (
        await ProjectMember.filter(project=project).order_by("id").values_list("id", "person_id")
    )
    tz = dt.timezone(dt.timedelta(hours=8))
    now = dt.datetime.now(dt.UTC)
    rows = []
    for mid, pid in member_rows:
        for d in range(N_DAYS):
            if rng.random() < 0.05:
                continue
            day = FIRST + dt.timedelta(days=d)
            t_in = dt.datetime.combine(day, dt.time(7, rng.randint(0, 59)), tz)
            t_out = dt.datetime.combine(day, dt.time(17, rng.randint(0, 59)), tz)
            plan = [(t_in, "in"), (t_out, "out")]
            if rng.random() < 0.05:
                plan.append((t_in + dt.timedelta(minutes=1), "in"))  # a repeated punch
            if rng.random() < 0.04:
                plan = plan[:1]  # forgot to punch out
            for k, (t, direction) in enumerate(plan):
                rows.append(
                    (
                        project.id,
                        mid,
                        pid,
                        f"{mid}-{d}-{k}",
                        t.astimezone(dt.UTC),
                        day,
                        direction,
                        True,
                        "device",
                        "accepted",
                        now,
                    )
                )
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    marks = ",".join(f"${i}" for i in range(1, 12)) if pg else ",".join("?" * 11)
    sql = (
        "INSERT INTO punch (project_id, member_id, person_id, device_punch_id, time, "
        f"local_date, direction, liveness, source, status, received_at) VALUES ({marks})"
    )
    for i in range(0, len(rows), 20000):
        await conn.execute_many(sql, rows[i : i + 20000])
    return project, [m for m, _ in member_rows], len(rows)


def _baseline_page_sql(pg: bool) -> str:
    """The best single SQL we could write for one page of the statistics."""
    if pg:
        return (
            "WITH pg AS (SELECT m.id, m.person_type, m.work_type, m.post, m.work_status, "
            "e.name AS unit_name, t.name AS team_name, p.name, p.id_number_masked, "
            "p.phone_masked, count(*) OVER () AS total FROM project_member m "
            "JOIN person p ON p.id = m.person_id JOIN participating_unit u ON u.id = m.unit_id "
            "JOIN enterprise e ON e.id = u.enterprise_id LEFT JOIN team t ON t.id = m.team_id "
            "WHERE m.project_id = $1 ORDER BY m.id LIMIT $2 OFFSET $3) "
            "SELECT pg.*, string_agg(EXTRACT(DAY FROM d.day)::int || ':' || d.state, ','), "
            "count(d.id), count(d.id) FILTER (WHERE d.state = 'normal') FROM pg "
            "LEFT JOIN daily_attendance d ON d.member_id = pg.id AND d.day BETWEEN $4 AND $5 "
            "GROUP BY pg.id, pg.person_type, pg.work_type, pg.post, pg.work_status, "
            "pg.unit_name, pg.team_name, pg.name, pg.id_number_masked, pg.phone_masked, "
            "pg.total ORDER BY pg.id"
        )
    return (
        "WITH pg AS (SELECT m.id, m.person_type, m.work_type, m.post, m.work_status, "
        "e.name AS unit_name, t.name AS team_name, p.name, p.id_number_masked, p.phone_masked, "
        "count(*) OVER () AS total FROM project_member m JOIN person p ON p.id = m.person_id "
        "JOIN participating_unit u ON u.id = m.unit_id JOIN enterprise e ON e.id = u.enterprise_id "
        "LEFT JOIN team t ON t.id = m.team_id WHERE m.project_id = ? ORDER BY m.id LIMIT ? "
        "OFFSET ?) SELECT pg.*, group_concat(CAST(substr(d.day, 9, 2) AS INTEGER) || ':' || "
        "d.state), count(d.id), sum(d.state = 'normal') FROM pg LEFT JOIN daily_attendance d "
        "ON d.member_id = pg.id AND d.day BETWEEN ? AND ? GROUP BY pg.id ORDER BY pg.id"
    )


async def _median(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _row(bench: str, engine: str, value: float, baseline: float, goal: str, **extra: Any) -> dict:
    ratio = value / baseline if baseline else float("inf")
    return {
        "bench": bench,
        "engine": engine,
        "value": round(value, 5),
        "baseline": round(baseline, 5),
        "ratio": round(ratio, 4),
        "goal": goal,
        **extra,
    }


async def _run_engine(engine: str, ctx: Any) -> list[dict]:
    from models import Direction
    from services import attendance, localtime
    from services.attendance import StatsFilter
    from services.attendance.clock import month_bounds
    from services.exports import XlsxSheet
    from services.identity import Principal
    from services.scope import ProjectAccess, RowScope

    n_members = 300 if ctx.quick else 3000
    await _open(engine, ctx)
    out: list[dict] = []
    try:
        project, member_ids, n_punches = await _seed(n_members)
        last = FIRST + dt.timedelta(days=N_DAYS - 1)
        # the platform operator: every unit's rows, masked personal data (no VIEW_PII)
        access = ProjectAccess(
            project=project,
            principal=Principal(kind="operator", account_id=0),
            scope=RowScope.everything(can_manage=False),
        )
        # (c) full-month settlement, then one late punch and its day re-settled
        t0 = time.perf_counter()
        settled = await attendance.settle_range(project.id, FIRST, last)
        full = time.perf_counter() - t0
        from models import Punch

        late_member, late_day = member_ids[len(member_ids) // 2], FIRST + dt.timedelta(days=12)
        await Punch.create(
            project=project,
            member_id=late_member,
            device_punch_id="late-1",
            time=dt.datetime.combine(late_day, dt.time(20), dt.UTC),
            local_date=late_day,
            direction=Direction.OUT,
            liveness=True,
            status="accepted",
        )
        one = await _median(
            lambda: attendance.settle_days(project.id, [(late_member, late_day)]), 5
        )
        out.append(
            _row(
                "resettle_day_vs_full_month",
                engine,
                one,
                full,
                "< 0.01",
                punches=n_punches,
                days_settled=settled,
            )
        )
        # (a) one page of statistics vs the single SQL aggregate
        conn = connections.get("default")
        pg = conn.capabilities.dialect == "postgres"
        sql = _baseline_page_sql(pg)
        mid_page = (n_members // 10) // 2 + 1
        params = [
            project.id,
            10,
            (mid_page - 1) * 10,
            FIRST if pg else FIRST.isoformat(),
            last if pg else last.isoformat(),
        ]

        async def baseline() -> None:
            await conn.execute_query(sql, params)

        async def ours() -> None:
            await attendance.month_stats(
                access, MONTH, StatsFilter(), mid_page, 10, durations=False
            )

        await ours()
        await baseline()
        repeat = 15 if ctx.quick else 30
        b = await _median(baseline, repeat)
        v = await _median(ours, repeat)
        out.append(
            _row(
                "punch_stats_page_vs_single_sql",
                engine,
                v,
                b,
                "<= 2",
                members=n_members,
                page_size=10,
            )
        )
        # (b) the export vs xlsxwriter writing the same cells from memory
        t0 = time.perf_counter()
        path, n_rows = await attendance.export_month(
            access, MONTH, StatsFilter(), durations=False, tmpdir=str(ctx.tmpdir)
        )
        export_time = time.perf_counter() - t0
        size = os.path.getsize(path)
        os.unlink(path)
        cells: list[list] = []
        _, _, first, _ = month_bounds(MONTH)
        today = localtime.project_today(access.project)  # as export_month blanks days to come
        async for members, days in attendance.iter_month_rows(access, MONTH, StatsFilter()):
            cells.extend(
                attendance.export._export_rows(
                    members, days, len(cells) + 1, N_DAYS, False, False, first, today
                )
            )
        base_path = str(ctx.tmpdir / "baseline.xlsx")
        t0 = time.perf_counter()
        book = XlsxSheet(
            base_path,
            attendance.export_columns(N_DAYS, False),
            "打卡统计",
            attendance.EXPORT_STYLES,
        )
        book.write_rows(cells)
        book.close()
        base_time = time.perf_counter() - t0
        os.unlink(base_path)
        del cells
        tracemalloc.start()
        path, _ = await attendance.export_month(
            access, MONTH, StatsFilter(), durations=False, tmpdir=str(ctx.tmpdir)
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        os.unlink(path)
        out.append(
            _row(
                "month_export_vs_xlsxwriter",
                engine,
                export_time,
                base_time,
                "<= 1.5",
                rows=n_rows,
                xlsx_bytes=size,
                peak_mb=round(peak / 2**20, 1),
                peak_goal_mb="< 150",
            )
        )
    finally:
        await Tortoise.close_connections()
    return out


async def main(ctx: Any) -> list[dict]:
    """Run the attendance benchmarks on every engine of the context."""
    from config.settings import Settings
    from services import pii

    pii.configure(Settings(env="test"))
    rows: list[dict] = []
    for engine in ctx.engines:
        rows.extend(await _run_engine(engine, ctx))
    return rows
