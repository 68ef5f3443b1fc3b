"""Device ingest benchmarks, measured from outside the server (issue 13).

(a) ``devices.signed_punch_vs_hello``: signed single-punch ``POST /device/v1/punches`` requests/s
    through ``realname serve`` (one worker: Sanic ``single_process``) ÷ requests/s of a bare Sanic
    hello app (one worker, ``single_process``), both driven by the same load generator — ``wrk``
    in its own process, one thread, 32 connections, with ``bench/wrk_pool.lua`` sending requests
    signed in advance by this module (unique nonce and punch id each). Windows are interleaved
    hello/platform/hello/platform/…; the ratio is the median of the per-pair ratios. Beside it:
    the generator's CPU per request (``/proc/<pid>/stat`` of wrk) and the server's (the server
    process; on PostgreSQL also the database backends serving it), and the p99 latency. Each pair
    also sends the platform window's requests (same bytes) to the bare app's punch-shaped handler
    (reads the JSON body, answers the same reply shape, checks and stores nothing):
    ``bare_punch_shape_ratio`` is that ÷ hello, the most any handler of this request could reach
    on this stack, so the gap between it and ``ratio`` is the platform's own work.
(b) ``devices.batch_ingest_vs_raw_insert``: punches/s through ``services.ingest.ingest`` in
    500-punch batches (parse, rules, insert, settlement of the touched days: the clock stops only
    when every touched day is settled) ÷ rows/s of the plainest bulk insert of the same number of
    punch-shaped rows: ``COPY`` (asyncpg ``copy_records_to_table``) on PostgreSQL, ``sqlite3``
    ``executemany`` (one transaction per 500 rows) on SQLite. Interleaved baseline/pipeline
    segments, median of three, at the start of a month's load and at its end.

The data is what users have: the schema built by ``realname migrate``; projects of mostly labour
members in teams, with contracts (some unsigned: yellow/orange warnings, a few red: rejected),
wage cards (a few missing: rejected) and a few post personnel; punches in and out over a month,
terminals uploading each day, handsets uploading a few late batches of earlier days. (a) runs on
the fresh database and again once the month is loaded ("month-sized table").

``python -m bench.bench_devices hello --port P`` serves the hello baseline.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk_pool.lua"
CONNECTIONS = 32
BATCH = 500
CST = dt.timezone(dt.timedelta(hours=8))  # the projects' zone (Asia/Shanghai, no DST)
# The punch slots of a working day (local hour, direction): in, out at noon, in, out.
SLOTS = ((7, "in"), (12, "out"), (13, "in"), (18, "out"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sizes:
    """How big a run is."""

    projects: int
    members: int  # per project
    window: float  # seconds per (a) window
    pairs: int  # hello/platform window pairs per (a) run
    month_days: int  # days of the month load
    segment: int  # batches per timed (b) segment (three at the start, three at the end)


QUICK = Sizes(projects=1, members=1000, window=3, pairs=1, month_days=6, segment=2)
FULL = Sizes(projects=4, members=1500, window=10, pairs=3, month_days=30, segment=8)


# --- processes and CPU ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def _tree(pid: int) -> list[int]:
    """A process and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def _cpu_seconds(pids: list[int]) -> float:
    return sum(_cpu_ticks(p) for p in pids) / CLK_TCK


def _http_get(port: int, path: str) -> int:
    """Status of one GET (0 when nothing answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
        return int(head.split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _wait_ok(port: int, path: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited during start-up ({proc.returncode})")
        if _http_get(port, path) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk_path() -> str:
    """The wrk binary (Debian: ``apt-get install wrk``)."""
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    return found


def write_pool(path: Path, requests: list[bytes]) -> None:
    """The pool file read by ``wrk_pool.lua``: ``<length>\\n<raw request>`` records."""
    with path.open("wb") as f:
        for raw in requests:
            f.write(b"%d\n" % len(raw))
            f.write(raw)


def run_wrk(
    port: int,
    pool: Path,
    seconds: float,
    server_pids: list[int],
    tmp: Path,
    db_pids: list[int] | None = None,
) -> dict[str, Any]:
    """One wrk window against 127.0.0.1:port; its summary with CPU per request of both sides.

    The generator's CPU is counted from the moment its pool is loaded (READY file) to its exit
    (``wait4`` rusage), the server's over the same span (``/proc/<pid>/stat``), and the
    database backends' (``db_pids``, PostgreSQL) apart.
    """
    ready = tmp / f"ready-{uuid.uuid4().hex[:8]}"
    out_path = tmp / f"wrk-{uuid.uuid4().hex[:8]}.out"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [
                wrk_path(),
                "-t1",
                f"-c{CONNECTIONS}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA),
                f"http://127.0.0.1:{port}",
                "--",
                str(pool),
                str(ready),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        waited = None  # (pid, status, rusage) once wrk has exited
        while not ready.exists() and time.monotonic() < deadline:
            waited = os.wait4(proc.pid, os.WNOHANG)
            if waited[0]:
                break
            time.sleep(0.002)
        gen0 = _cpu_ticks(proc.pid) / CLK_TCK
        srv0, db0 = _cpu_seconds(server_pids), _cpu_seconds(db_pids or [])
        if waited is None or not waited[0]:
            waited = os.wait4(proc.pid, 0)
        _, status, usage = waited
        proc.returncode = os.waitstatus_to_exitcode(status)
        srv1, db1 = _cpu_seconds(server_pids), _cpu_seconds(db_pids or [])
    gen1 = usage.ru_utime + usage.ru_stime
    text = out_path.read_text(errors="replace")
    out_path.unlink()
    ready.unlink(missing_ok=True)
    line = next((ln for ln in text.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {text[-2000:]}")
    result = json.loads(line[len("WRKJSON ") :])
    n = max(result["requests"], 1)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["gen_us"] = (gen1 - gen0) / n * 1e6
    result["server_us"] = (srv1 - srv0) / n * 1e6
    result["db_us"] = (db1 - db0) / n * 1e6
    return result


# --- the data set -----------------------------------------------------------------------------


@dataclass
class Gate:
    """A registered device: serial, secret, id."""

    sn: str
    secret: str
    id: int


@dataclass
class Site:
    """One project: its devices and the person ids of members who punch, with entry dates."""

    project_id: int
    gate_in: Gate
    gate_out: Gate
    handset: Gate
    members: list[tuple[int, dt.date]] = field(default_factory=list)  # (person id, entry)


@dataclass
class World:
    """The seeded data; ``mix`` counts members by kind."""

    sites: list[Site]
    mix: dict[str, int]


def _env(db_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "ENV": "test",
            "REDIS_URL": redis_url,
            "EMBEDDED_REDIS_DIR": str(tmp / "redis"),
            "STORAGE_URL": f"file://{tmp / 'files'}",
            "LOG_LEVEL": "WARNING",
            "WORKERS": "1",
        }
    )
    return env


def migrate(db_url: str, redis_url: str, tmp: Path) -> None:
    """The schema as users get it: ``realname migrate`` (Tortoise migrations + regions)."""
    subprocess.run(
        [sys.executable, "-m", "realname.cli", "migrate"],
        cwd=ROOT,
        env=_env(db_url, redis_url, tmp),
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def _open(db_url: str) -> None:
    from config.settings import Settings
    from realname import db
    from services import pii

    settings = Settings(env="test", database_url=db_url)
    pii.configure(settings)
    _forget_engine()
    await db.init_db(settings)


async def seed(db_url: str, sizes: Sizes, today: dt.date) -> World:
    """Projects of members as users have them (the database is already migrated).

    Per 100 members: 80 labour with contract and wage card entered 120 days ago, 8 labour
    entered 7–25 days ago without a contract yet (yellow/orange warning: punches count), 1 labour
    entered long ago without a contract (red: punches rejected), 1 labour without a wage card
    (rejected), 5 more labour with contracts, 5 post personnel (management).
    """
    from models import (
        Enterprise,
        ParticipatingUnit,
        Person,
        Project,
        ProjectMember,
        Team,
        UnitRole,
    )
    from models.contracts import LabourContract
    from realname import db
    from services import devices, pii
    from services.labour import WORK_TYPES

    await _open(db_url)
    c = pii.cipher()
    card = c.encrypt("6222021234567890123")
    tag = uuid.uuid4().hex[:6]
    rng = random.Random(13)
    sites: list[Site] = []
    mix: Counter[str] = Counter()
    for p in range(sizes.projects):
        project = await Project.create(
            code=f"BENCH{tag}{p}", name=f"基准项目{p}", region_id="630102", permit_number=f"SG{p}"
        )
        gc_ent = await Enterprise.create(
            name=f"总包{tag}{p}", credit_code=f"91{tag}{p:02d}GC0000"[:18]
        )
        sub_ent = await Enterprise.create(
            name=f"劳务{tag}{p}", credit_code=f"92{tag}{p:02d}LS0000"[:18]
        )
        gc = await ParticipatingUnit.create(
            project=project, enterprise=gc_ent, role=UnitRole.GENERAL_CONTRACTOR, entry_date=today
        )
        sub = await ParticipatingUnit.create(
            project=project, enterprise=sub_ent, role=UnitRole.LABOUR_SUB, entry_date=today
        )
        teams = [
            await Team.create(project=project, unit=sub, name=f"班组{t}", leader="班组长")
            for t in range(max(2, sizes.members // 60))
        ]
        persons = [
            Person(
                name=f"工人{p}-{i}",
                id_number_enc="x",
                id_number_bidx=f"{tag}-{p}-{i}",
                id_number_masked="6301**********0000",
            )
            for i in range(sizes.members)
        ]
        await Person.bulk_create(persons, batch_size=1000)
        ids = await Person.filter(id_number_bidx__startswith=f"{tag}-{p}-").values_list(
            "id", "id_number_bidx"
        )
        person_ids = [pid for pid, _ in sorted(ids, key=lambda r: int(r[1].rsplit("-", 1)[1]))]
        members, kinds = [], []
        for i, person_id in enumerate(person_ids):
            k = i % 100
            if k < 80 or 90 <= k < 95:
                kind, entry = "labour_contract", today - dt.timedelta(days=120)
            elif k < 88:
                kind, entry = "labour_warning", today - dt.timedelta(days=7 + (k - 80) * 2 + i % 3)
            elif k == 88:
                kind, entry = "labour_red", today - dt.timedelta(days=120)
            elif k == 89:
                kind, entry = "labour_no_wage_card", today - dt.timedelta(days=120)
            else:
                kind, entry = "post_personnel", today - dt.timedelta(days=120)
            labour = kind != "post_personnel"
            members.append(
                ProjectMember(
                    project=project,
                    person_id=person_id,
                    unit=sub if labour else gc,
                    team=teams[i % len(teams)] if labour else None,
                    person_type="labour" if labour else "management",
                    work_type=WORK_TYPES[i % len(WORK_TYPES)] if labour else "",
                    post="" if labour else "safety_officer",
                    entry_date=entry,
                    bank_name="中国工商银行" if kind != "labour_no_wage_card" else "",
                    bank_card_enc=None if kind == "labour_no_wage_card" else card,
                    bank_card_masked="" if kind == "labour_no_wage_card" else "6222********0123",
                    bank_branch_code="102100000000",
                )
            )
            kinds.append(kind)
            mix[kind] += 1
        await ProjectMember.bulk_create(members, batch_size=1000)
        rows = await ProjectMember.filter(project=project).values_list("id", "person_id")
        member_of = {person: mid for mid, person in rows}
        await LabourContract.bulk_create(
            [
                LabourContract(
                    project=project,
                    member_id=member_of[m.person_id],
                    number=f"HT{tag}{p}-{i}",
                    party_a=f"劳务{tag}{p}",
                    start_date=m.entry_date,
                )
                for i, (m, kind) in enumerate(zip(members, kinds, strict=True))
                if kind == "labour_contract"
            ],
            batch_size=1000,
        )
        gates = []
        for role, kind in (("I", "attendance"), ("O", "attendance"), ("H", "mobile")):
            device, secret = await devices.register_device(
                project, kind=kind, sn=f"B{tag}{p}{role}", manufacturer="bench", model=role
            )
            gates.append(Gate(device.sn, secret, device.id))
        site = Site(project.id, *gates)
        site.members = [(m.person_id, m.entry_date) for m in members]
        rng.shuffle(site.members)
        sites.append(site)
    await db.close_db()
    return World(sites, dict(mix))


def _moment(day: dt.date, hour: int, person_id: int) -> dt.datetime:
    jitter = int(hashlib.blake2b(f"{person_id}{day}{hour}".encode(), digest_size=2).hexdigest(), 16)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CST) + dt.timedelta(
        seconds=jitter % 2400
    )


def _punch(key: str, person_id: int, moment: dt.datetime, direction: str) -> dict[str, Any]:
    return {
        "id": key,
        "person_id": person_id,
        "time": moment.isoformat(timespec="seconds"),
        "direction": direction,
        "liveness": True,
    }


class LivePunches:
    """Single punches as terminals send them live: each member in and out, today first, then
    the previous days of the week (days of the month load are skipped). Each item: the gate it
    goes through and the punch."""

    def __init__(self, world: World, days: list[int]) -> None:
        self.world, self.days = world, days
        self.counter = 0
        self._it = self._items()

    def _items(self) -> Any:
        now = dt.datetime.now(CST)
        today = now.date()
        for offset in self.days:
            day = today - dt.timedelta(days=offset)
            for hour, direction in SLOTS:
                for row in zip(*(s.members for s in self.world.sites), strict=False):
                    for site, (person_id, entry) in zip(self.world.sites, row, strict=False):
                        if day < entry:
                            continue
                        moment = _moment(day, hour, person_id)
                        if moment > now - dt.timedelta(minutes=1):
                            continue
                        gate = site.gate_in if direction == "in" else site.gate_out
                        yield gate, person_id, moment, direction

    def take(self, n: int) -> list[tuple[Gate, dict[str, Any]]]:
        out = []
        for gate, person_id, moment, direction in self._it:
            self.counter += 1
            key = f"L{self.counter}-{uuid.uuid4().hex[:12]}"
            out.append((gate, _punch(key, person_id, moment, direction)))
            if len(out) == n:
                break
        if len(out) < n:
            raise RuntimeError("the live punch plan is exhausted: more members or days needed")
        return out


def month_batches(world: World, first: int, days: int) -> list[tuple[Gate, int, list[dict]]]:
    """The month's uploads, oldest day first: each gate's punches of the day in 500-punch
    batches, and after every tenth batch a late handset batch of punches 1–7 days older.
    Each item: (gate, project id, punches)."""
    today = dt.datetime.now(CST).date()
    rng = random.Random(7)
    out: list[tuple[Gate, int, list[dict]]] = []
    n = 0
    for offset in range(first + days - 1, first - 1, -1):
        day = today - dt.timedelta(days=offset)
        for site in world.sites:
            present = [(pid, e) for pid, e in site.members if e <= day]
            for hour, direction in (SLOTS[0], SLOTS[3]):
                gate = site.gate_in if direction == "in" else site.gate_out
                punches = [
                    _punch(f"M{offset}-{hour}-{pid}", pid, _moment(day, hour, pid), direction)
                    for pid, _ in present
                ]
                for start in range(0, len(punches), BATCH):
                    out.append((gate, site.project_id, punches[start : start + BATCH]))
                    n += 1
                    if n % 10 == 0:
                        late = []
                        for j in range(BATCH):
                            pid, entry = rng.choice(site.members)
                            back = day - dt.timedelta(days=rng.randint(1, 7))
                            hour2, dir2 = SLOTS[1 + j % 2]
                            if back < entry:
                                continue
                            late.append(
                                _punch(f"H{n}-{j}-{pid}", pid, _moment(back, hour2, pid), dir2)
                            )
                        out.append((site.handset, site.project_id, late))
    return out


# --- (a) requests through the server ----------------------------------------------------------


def _signed_wire(port: int, items: list[tuple[Gate, dict[str, Any]]]) -> list[bytes]:
    from services.devices import signed_headers

    wire = []
    path = "/device/v1/punches"
    for gate, punch in items:
        body = json.dumps({"punches": [punch]}, separators=(",", ":")).encode()
        h = signed_headers(gate.sn, gate.secret, "POST", path, body)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in h.items())
            + "\r\n"
        )
        wire.append(head.encode() + body)
    return wire


async def _pg_backends(db_url: str) -> list[int]:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


async def bench_requests(
    engine: str,
    db_url: str,
    redis_url: str,
    tmp: Path,
    sizes: Sizes,
    live: LivePunches,
    table: str,
) -> dict[str, Any]:
    """(a) interleaved hello / platform windows; medians of the pairs."""
    hello_port, app_port = _free_port(), _free_port()
    hello = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_devices", "hello", "--port", str(hello_port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "realname.cli", "serve", "--port", str(app_port), "--workers", "1"],
        cwd=ROOT,
        env=_env(db_url, redis_url, tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    hello_pool = tmp / "hello.pool"
    hello_wire = f"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{hello_port}\r\n\r\n".encode()
    write_pool(hello_pool, [hello_wire])
    pool = tmp / "punch.pool"
    pairs: list[tuple[dict, dict]] = []
    shapes: list[dict] = []
    sent = 0
    try:
        _wait_ok(hello_port, "/hello", hello)
        _wait_ok(app_port, "/healthz", app)
        app_pids, hello_pids = _tree(app.pid), _tree(hello.pid)
        # Warm-up (not counted): the first requests of each server (route finalisation, caches,
        # prepared statements) and a first estimate of the platform's rate for the pool size.
        warm = min(sizes.window, 3)
        run_wrk(hello_port, hello_pool, warm, hello_pids, tmp)
        write_pool(pool, _signed_wire(app_port, live.take(4000 * warm)))
        first = run_wrk(app_port, pool, warm, app_pids, tmp)
        sent += first["requests"] - first["status_errors"]
        rate = max(first["rps"], 500)
        for _ in range(sizes.pairs):
            h = run_wrk(hello_port, hello_pool, sizes.window, hello_pids, tmp)
            need = int(rate * sizes.window * 2.5) + 2000
            write_pool(pool, _signed_wire(app_port, live.take(need)))
            backends = await _pg_backends(db_url) if engine == "postgres" else []
            a = run_wrk(app_port, pool, sizes.window, app_pids, tmp, backends)
            sent += a["requests"] - a["status_errors"]
            rate = max(a["rps"], 500)
            # The same requests (bytes) to the bare Sanic app's punch-shaped handler: what any
            # Sanic handler pays for this request and reply, before authentication or storage.
            shapes.append(run_wrk(hello_port, pool, sizes.window, hello_pids, tmp))
            pairs.append((h, a))
    finally:
        _stop(hello)
        _stop(app)
        pool.unlink(missing_ok=True)
        hello_pool.unlink(missing_ok=True)
    counts = await _status_counts(db_url)
    ratios = [a["rps"] / h["rps"] for h, a in pairs]
    med = statistics.median

    def m(side: int, key: str) -> float:
        return med([pair[side].get(key, 0.0) for pair in pairs])

    problems = sum(a["status_errors"] + a["socket_errors"] + a["timeouts"] for _, a in pairs)
    return {
        "bench": "devices.signed_punch_vs_hello",
        "engine": engine,
        "table": table,
        "value": round(m(1, "rps"), 1),
        "baseline": round(m(0, "rps"), 1),
        "ratio": round(med(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "goal": ">= 0.4" if engine == "postgres" else ">= 0.3",
        "p99_ms": round(m(1, "p99_us") / 1000, 1),
        "p99_goal": "<= 50",
        # The ceiling of the stack: a bare Sanic handler that reads the same signed-punch request
        # (headers, JSON body) and answers the same reply shape, without authentication, Redis or
        # storage, relative to hello (same server, same generator, same window length).
        "bare_punch_shape_ratio": round(
            med([s["rps"] / h["rps"] for (h, _), s in zip(pairs, shapes, strict=True)]), 3
        ),
        "gen_us_per_req": f"hello {m(0, 'gen_us'):.0f} / punch {m(1, 'gen_us'):.0f}",
        "server_us_per_req": (
            f"hello {m(0, 'server_us'):.0f} / bare punch shape "
            f"{med([s['server_us'] for s in shapes]):.0f} / punch {m(1, 'server_us'):.0f}"
        ),
        **({"db_us_per_req": round(m(1, "db_us"))} if engine == "postgres" else {}),
        "non_2xx_or_errors": problems,
        "punches_in_table": counts,
        "requests_answered": sent,
    }


async def _status_counts(db_url: str) -> dict[str, int]:
    from tortoise import connections

    from realname import db

    await _open(db_url)
    try:
        _, rows = await connections.get("default").execute_query(
            "SELECT status, COALESCE(reason, ''), COUNT(*) FROM punch GROUP BY 1, 2"
        )
    finally:
        await db.close_db()
    return {f"{r[0]}{'/' + r[1] if r[1] else ''}": r[2] for r in rows}


# --- (b) batches through the pipeline ---------------------------------------------------------


def _parse_native() -> Any:
    try:
        from services.ingest import parse_native
    except ImportError:  # moved with the native protocol
        from devices.native import parse_native  # type: ignore[no-redef]
    return parse_native


class RawInsert:
    """The baseline: the plainest bulk insert of punch-shaped rows into a table without the
    platform's foreign keys (one unique index, like ``punch``'s (device, punch id))."""

    def __init__(self, engine: str, db_url: str) -> None:
        self.engine, self.db_url = engine, db_url
        self.conn: Any = None
        self.serial = 0

    async def open(self) -> None:
        if self.engine == "postgres":
            import asyncpg

            dsn = self.db_url.replace("postgres://", "postgresql://", 1)
            self.conn = await asyncpg.connect(dsn)
            await self.conn.execute("DROP TABLE IF EXISTS bench_punch_raw")
            await self.conn.execute(
                "CREATE TABLE bench_punch_raw (id bigserial primary key, project_id int,"
                " member_id int, person_id int, device_id int, device_punch_id varchar(96),"
                " time timestamptz, local_date date, direction varchar(4), liveness bool,"
                " photo_key varchar(255), lat float8, lng float8, source varchar(16),"
                " status varchar(8), reason varchar(32), received_at timestamptz,"
                " payload jsonb, UNIQUE (device_id, device_punch_id))"
            )
            return
        import sqlite3

        self.conn = sqlite3.connect(self.db_url[len("sqlite://") :])
        self.conn.execute("DROP TABLE IF EXISTS bench_punch_raw")
        self.conn.execute(
            "CREATE TABLE bench_punch_raw (id integer primary key, project_id int,"
            " member_id int, person_id int, device_id int, device_punch_id varchar(96),"
            " time timestamp, local_date date, direction varchar(4), liveness bool,"
            " photo_key varchar(255), lat real, lng real, source varchar(16),"
            " status varchar(8), reason varchar(32), received_at timestamp, payload json,"
            " UNIQUE (device_id, device_punch_id))"
        )

    async def close(self) -> None:
        if self.engine == "postgres":
            await self.conn.execute("DROP TABLE bench_punch_raw")
            await self.conn.close()
        else:
            self.conn.execute("DROP TABLE bench_punch_raw")
            self.conn.close()

    async def rate(self, n: int) -> float:
        """Rows/s of inserting n rows, 500 per statement/transaction."""
        from services.ingest import _COLUMNS

        now = dt.datetime.now(dt.UTC)
        rows = []
        for _ in range(n):
            self.serial += 1
            payload = f'{{"id":"k{self.serial}","direction":"in","liveness":true}}'
            rows.append(
                (1, 1, 1, 1, f"k{self.serial}", now, now.date(), "in", True, None, None, None,
                 "device", "accepted", None, now, payload)
            )  # fmt: skip
        cols = list(_COLUMNS)
        if self.engine == "postgres":
            t0 = time.perf_counter()
            for start in range(0, n, BATCH):
                await self.conn.copy_records_to_table(
                    "bench_punch_raw", records=rows[start : start + BATCH], columns=cols
                )
            return n / (time.perf_counter() - t0)
        sql = f"INSERT INTO bench_punch_raw ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
        text_rows = [
            tuple(str(v) if isinstance(v, dt.datetime | dt.date) else v for v in r) for r in rows
        ]
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            with self.conn:  # one committed transaction per 500 rows, like the pipeline
                self.conn.executemany(sql, text_rows[start : start + BATCH])
        return n / (time.perf_counter() - t0)


async def bench_batches(
    engine: str, db_url: str, world: World, sizes: Sizes, first_day: int
) -> list[dict[str, Any]]:
    """(b) the month's uploads through the pipeline; three timed segments at the start and
    three at the end (month-sized table), each after a baseline segment of the same size."""
    from models import Device, Project
    from realname import db
    from services import attendance, ingest

    parse = _parse_native()
    await _open(db_url)
    plan = month_batches(world, first_day, sizes.month_days)
    devices = {d.id: d for d in await Device.all()}
    projects = {p.id: p for p in await Project.all()}
    raw = RawInsert(engine, db_url)
    await raw.open()
    seg = sizes.segment
    timed = {i for i in range(3 * seg)} | {len(plan) - 1 - i for i in range(3 * seg)}
    results: dict[str, list[tuple[float, float]]] = {"start": [], "month": []}
    statuses: Counter[str] = Counter()
    punches_total = 0
    # The pipeline runs here in the bench's process, which holds the month's plan and the world:
    # freeze that heap as ``realname serve`` freezes each worker's start-up heap (gc.collect +
    # gc.freeze), or a full collection over the bench's own objects (~40 ms) lands in one timed
    # segment.
    gc.collect()
    gc.freeze()
    t_load = time.perf_counter()
    i = 0
    try:
        while i < len(plan):
            if i not in timed:
                gate, project_id, punches = plan[i]
                out = await ingest.ingest(
                    devices[gate.id], projects[project_id], [parse(p) for p in punches]
                )
                statuses.update(r["status"] for r in out)
                punches_total += len(punches)
                i += 1
                continue
            part = plan[i : i + seg]
            n = sum(len(p) for _, _, p in part)
            await attendance.wait_pending()
            base = await raw.rate(n)
            t0 = time.perf_counter()
            for gate, project_id, punches in part:
                out = await ingest.ingest(
                    devices[gate.id], projects[project_id], [parse(p) for p in punches]
                )
                statuses.update(r["status"] for r in out)
            await attendance.wait_pending()
            rate = n / (time.perf_counter() - t0)
            punches_total += n
            results["start" if i < len(plan) // 2 else "month"].append((rate, base))
            i += seg
        load_s = time.perf_counter() - t_load
    finally:
        gc.unfreeze()
        await raw.close()
        await db.close_db()
    counts = await _status_counts(db_url)
    rows = []
    how = "asyncpg COPY" if engine == "postgres" else "sqlite3 executemany"
    for table, pairs in results.items():
        ratios = [r / b for r, b in pairs]
        rows.append(
            {
                "bench": "devices.batch_ingest_vs_raw_insert",
                "engine": engine,
                "table": "first batches" if table == "start" else "month-sized",
                "value": round(statistics.median(r for r, _ in pairs), 1),
                "baseline": round(statistics.median(b for _, b in pairs), 1),
                "ratio": round(statistics.median(ratios), 3),
                "ratios": [round(r, 3) for r in ratios],
                "goal": ">= 0.3" if engine == "postgres" else ">= 0.15",
                "baseline_kind": how,
            }
        )
    rows[-1]["month_load"] = (
        f"{punches_total} punches in {len(plan)} batches, {load_s:.0f} s"
        f" ({punches_total / load_s:.0f}/s incl. settlement); replies {dict(statuses)}"
    )
    rows[-1]["punches_in_table"] = counts
    return rows


# --- the run ----------------------------------------------------------------------------------


def _forget_engine() -> None:
    """Tortoise caches each model's INSERT text per connection name ("default"): drop it when
    the same process switches from SQLite (``?``) to PostgreSQL (``$1``)."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()


async def _reset_pg(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgres://", "postgresql://", 1)
    if "bench" not in dsn.rsplit("/", 1)[-1]:
        raise RuntimeError("the PostgreSQL database name must contain 'bench'")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def _flush_redis(url: str) -> None:
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


async def main(ctx: Any) -> list[dict[str, Any]]:
    """(a) fresh, (b) over a month's load, (a) again on the month-sized table; every engine.
    ``--only requests`` runs (a) alone (on the fresh table), ``--only batches`` (b) alone."""
    only = ctx.extra.get("only") or {"requests", "batches"}
    if only - {"requests", "batches"}:
        raise RuntimeError(f"bench_devices parts are requests and batches, not {only}")
    if "requests" in only:
        wrk_path()
    sizes = QUICK if ctx.quick else FULL
    redis_url = ctx.extra.get("redis_url") or ""
    rows: list[dict[str, Any]] = []
    live_days = [0, 1, 2, 3, 4, 5, 6]
    first_month_day = 8  # the month load's days: 8 … 8 + month_days - 1 days ago
    live_days += list(range(first_month_day + sizes.month_days, 60))
    for engine in ctx.engines:
        if engine == "postgres":
            url = ctx.postgres_url.replace("postgresql://", "postgres://", 1)
            await _reset_pg(url)
        else:
            url = f"sqlite://{ctx.tmpdir / f'devices-{uuid.uuid4().hex[:6]}.sqlite3'}"
        _flush_redis(redis_url)
        migrate(url, redis_url, ctx.tmpdir)
        today = dt.datetime.now(CST).date()
        world = await seed(url, sizes, today)
        print(f"  [{engine}] seeded {world.mix}", flush=True)
        live = LivePunches(world, live_days)
        if "requests" in only:
            rows.append(
                await bench_requests(engine, url, redis_url, ctx.tmpdir, sizes, live, "fresh")
            )
        if "batches" in only:
            rows += await bench_batches(engine, url, world, sizes, first_month_day)
        if only == {"requests", "batches"}:
            rows.append(
                await bench_requests(engine, url, redis_url, ctx.tmpdir, sizes, live, "month-sized")
            )
        if engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url[len("sqlite://") :] + suffix).unlink(missing_ok=True)
    return rows


def _serve_hello(port: int) -> None:
    """The baseline: a bare Sanic JSON hello endpoint, one worker."""
    from sanic import Sanic, json

    app = Sanic("bench_hello")

    @app.get("/hello")
    async def hello(request: Any) -> Any:
        """Hello."""
        return json({"hello": "world"})

    @app.post("/device/v1/punches")
    async def punch_shape(request: Any) -> Any:
        """A signed punch request read (JSON body), its reply shape; nothing checked or kept."""
        punches = request.json["punches"]
        results = [
            {"id": p["id"], "status": "accepted", "reason": None, "field": None} for p in punches
        ]
        return json({"results": results}, ensure_ascii=False)

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["hello"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _serve_hello(args.port)
