"""Device ingest benchmarks (ratios measured in the same run).

(a) signed single-punch requests/s through the real server ÷ a plain Sanic JSON hello endpoint's
    requests/s: both servers are subprocesses on 127.0.0.1 with one worker, driven by the same
    asyncio/httpx load generator (requests are signed before the clock starts). Goal ≥ 0.4.
(b) punches/s through the ingest pipeline in 500-punch batches ÷ raw bulk insert rows/s into an
    equivalent table: asyncpg ``copy_records_to_table`` on PostgreSQL; on SQLite (no COPY) an
    ``executemany`` of plain INSERTs in one transaction. Goal ≥ 0.15.

``python -m bench.bench_devices hello --port P`` serves the hello baseline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32
WARMUP = 300  # requests sent (and not timed) first, on the same connections' server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _load(
    requests: list[tuple[str, bytes, dict[str, str]]], base: str, method: str = "POST"
) -> float:
    """Send the prepared requests over CONCURRENCY keep-alive connections; requests per second.

    A minimal asyncio HTTP/1.1 client (raw bytes prepared in advance), so the load generator
    costs the same for both servers and is not the bottleneck.
    """
    host, port = base.split("//", 1)[1].split(":")
    wire = []
    for path, body, headers in requests:
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        wire.append(head.encode() + b"\r\n" + body)
    errors = 0

    async def worker(items: list[bytes]) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for data in items:
                writer.write(data)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                if b" 200 " not in status:
                    errors += 1
        finally:
            writer.close()

    warm = min(WARMUP, len(wire) // 4)
    await asyncio.gather(*[worker(wire[i:warm:CONCURRENCY]) for i in range(CONCURRENCY)])
    rest = wire[warm:]
    t0 = time.perf_counter()
    await asyncio.gather(*[worker(rest[i::CONCURRENCY]) for i in range(CONCURRENCY)])
    elapsed = time.perf_counter() - t0
    if errors:
        print(f"  ({errors} non-200 replies)")
    return len(rest) / elapsed


def _env(db_url: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "ENV": "test",
            "REDIS_URL": "",
            "EMBEDDED_REDIS_DIR": str(tmp / "redis"),
            "STORAGE_URL": f"file://{tmp / 'files'}",
            "LOG_LEVEL": "WARNING",
            "WORKERS": "1",
        }
    )
    return env


async def _seed(db_url: str) -> tuple[str, str, list[int], int]:
    """A project with a device and members; (sn, secret, person ids, device id)."""
    from config.settings import Settings
    from models import Enterprise, ParticipatingUnit, Person, Project, ProjectMember, UnitRole
    from realname import db
    from services import devices, pii
    from services.regions import ensure_regions

    settings = Settings(env="test", database_url=db_url)
    pii.configure(settings)
    _forget_engine()
    await db.init_db(settings, create_schema=True)
    await ensure_regions()
    tag = uuid.uuid4().hex[:8]
    project = await Project.create(code=f"BENCH{tag}", name="bench", region_id="630102")
    ent = await Enterprise.create(name="bench", credit_code=f"91{tag}00000000"[:18])
    unit = await ParticipatingUnit.create(
        project=project, enterprise=ent, role=UnitRole.GENERAL_CONTRACTOR
    )
    c = pii.cipher()
    persons = []
    for i in range(200):
        person = await Person.create(
            name=f"p{i}", id_number_enc="x", id_number_bidx=f"{tag}-{i}", id_number_masked="x"
        )
        await ProjectMember.create(
            project=project,
            person=person,
            unit=unit,
            person_type="management",
            post="other",
            entry_date=dt.date.today() - dt.timedelta(days=30),  # the punches go 6 days back
            bank_card_enc=c.encrypt("1"),
        )
        persons.append(person.id)
    device, secret = await devices.register_device(
        project, kind="attendance", sn=f"B{tag}", manufacturer="bench", model="b"
    )
    await db.close_db()
    return device.sn, secret, persons, device.id


def _punch(person_id: int, day_offset: int = 0) -> dict[str, Any]:
    when = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(days=day_offset)
    return {
        "id": uuid.uuid4().hex,
        "person_id": person_id,
        "time": when.isoformat(),
        "direction": "in",
        "liveness": True,
    }


async def bench_requests(engine: str, db_url: str, tmp: Path, n: int) -> dict[str, Any]:
    """(a) signed single-punch requests/s ÷ plain hello requests/s."""
    from services.devices import signed_headers

    sn, secret, persons, _ = await _seed(db_url)
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
        env=_env(db_url, tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(hello_port, hello)
        _wait(app_port, app)
        plain = [("/hello", b"", {}) for _ in range(n)]
        signed = []
        for i in range(n):
            body = json.dumps({"punches": [_punch(persons[i % len(persons)])]}).encode()
            h = signed_headers(sn, secret, "POST", "/device/v1/punches", body)
            h["Content-Type"] = "application/json"
            signed.append(("/device/v1/punches", body, h))
        hello_rps = await _load(plain, f"http://127.0.0.1:{hello_port}", "GET")
        punch_rps = await _load(signed, f"http://127.0.0.1:{app_port}")
    finally:
        _stop(hello)
        _stop(app)
    return {
        "bench": "devices.signed_punch_vs_hello",
        "engine": engine,
        "value": round(punch_rps, 1),
        "baseline": round(hello_rps, 1),
        "ratio": round(punch_rps / hello_rps, 3),
        "goal": ">= 0.4",
    }


async def bench_batches(engine: str, db_url: str, batches: int) -> dict[str, Any]:
    """(b) pipeline punches/s in 500-punch batches ÷ raw bulk insert rows/s."""
    from config.settings import Settings
    from models import Device, Project
    from realname import db
    from services import attendance, ingest, pii

    sn, _secret, persons, device_id = await _seed(db_url)
    settings = Settings(env="test", database_url=db_url)
    pii.configure(settings)
    _forget_engine()
    await db.init_db(settings)
    device = await Device.get(id=device_id)
    project = await Project.get(id=device.project_id)  # type: ignore[attr-defined]
    payloads = [
        [_punch(persons[(b * 500 + i) % len(persons)], b % 5) for i in range(500)]
        for b in range(batches)
    ]
    warm = [_punch(persons[i % len(persons)], 6) for i in range(500)]  # not timed
    await ingest.ingest(device, project, [ingest.parse_native(p) for p in warm])
    await attendance.wait_pending()
    t0 = time.perf_counter()
    for batch in payloads:
        results = await ingest.ingest(device, project, [ingest.parse_native(p) for p in batch])
        assert all(r["status"] == "accepted" for r in results), results[:3]
    # The touched days are settled right after each batch (off the reply path): the clock
    # stops only once every one of them is settled, so that work is counted too.
    await attendance.wait_pending()
    pipeline = batches * 500 / (time.perf_counter() - t0)
    await db.close_db()
    baseline = await _raw_insert_rate(engine, db_url, batches * 500)
    how = "asyncpg copy_records_to_table" if engine == "postgres" else "sqlite executemany"
    return {
        "bench": "devices.batch_ingest_vs_raw_insert",
        "engine": engine,
        "value": round(pipeline, 1),
        "baseline": round(baseline, 1),
        "ratio": round(pipeline / baseline, 3),
        "goal": ">= 0.15",
        "baseline_kind": how,
    }


def _forget_engine() -> None:
    """Tortoise caches each model's INSERT text per connection name ("default"): drop it when
    the same process switches from SQLite (``?``) to PostgreSQL (``$1``)."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()


async def _raw_insert_rate(engine: str, db_url: str, n: int) -> float:
    """Rows/s of the fastest plain bulk insert into a punch-shaped table."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        (
            1,
            1,
            1,
            1,
            uuid.uuid4().hex,
            now,
            now.date(),
            "in",
            True,
            None,
            None,
            None,
            "device",
            "accepted",
            None,
            now,
            "{}",
        )
        for _ in range(n)
    ]
    from services.ingest import _COLUMNS

    cols = list(_COLUMNS)  # the same columns the pipeline inserts
    if engine == "postgres":
        import asyncpg

        conn = await asyncpg.connect(db_url.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute("DROP TABLE IF EXISTS bench_punch_raw")
            await conn.execute(
                "CREATE TABLE bench_punch_raw (id bigserial primary key, project_id int,"
                " member_id int, person_id int, device_id int, device_punch_id varchar(96),"
                " time timestamptz, local_date date, direction varchar(4), liveness bool,"
                " photo_key varchar(255), lat float8, lng float8, source varchar(16),"
                " status varchar(8), reason varchar(32), received_at timestamptz, payload jsonb,"
                " UNIQUE (device_id, device_punch_id))"
            )
            t0 = time.perf_counter()
            for start in range(0, n, 500):
                await conn.copy_records_to_table(
                    "bench_punch_raw", records=rows[start : start + 500], columns=cols
                )
            rate = n / (time.perf_counter() - t0)
            await conn.execute("DROP TABLE bench_punch_raw")
        finally:
            await conn.close()
        return rate
    import sqlite3

    path = db_url[len("sqlite://") :]
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE IF EXISTS bench_punch_raw")
    conn.execute(
        "CREATE TABLE bench_punch_raw (id integer primary key, project_id int,"
        " member_id int, person_id int, device_id int, device_punch_id varchar(96),"
        " time timestamp, local_date date, direction varchar(4), liveness bool,"
        " photo_key varchar(255), lat real, lng real, source varchar(16),"
        " status varchar(8), reason varchar(32), received_at timestamp, payload json,"
        " UNIQUE (device_id, device_punch_id))"
    )
    sql = f"INSERT INTO bench_punch_raw ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
    text_rows = [
        tuple(str(v) if isinstance(v, dt.datetime | dt.date) else v for v in r) for r in rows
    ]
    t0 = time.perf_counter()
    for start in range(0, n, 500):
        with conn:  # one committed transaction per 500 rows, like the pipeline
            conn.executemany(sql, text_rows[start : start + 500])
    rate = n / (time.perf_counter() - t0)
    conn.execute("DROP TABLE bench_punch_raw")
    conn.close()
    return rate


async def main(ctx: Any) -> list[dict[str, Any]]:
    """Run (a) and (b) on every engine of the context."""
    rows = []
    n = 1500 if ctx.quick else 6000
    batches = 10 if ctx.quick else 20
    for engine in ctx.engines:
        if engine == "postgres":
            url = ctx.postgres_url
            await _reset_pg(url)
        else:
            url = f"sqlite://{ctx.tmpdir / f'devices-{uuid.uuid4().hex[:6]}.sqlite3'}"
        rows.append(await bench_requests(engine, url, ctx.tmpdir, n))
        if engine == "postgres":
            await _reset_pg(url)
        else:
            url = f"sqlite://{ctx.tmpdir / f'devices-{uuid.uuid4().hex[:6]}.sqlite3'}"
        rows.append(await bench_batches(engine, url, batches))
    return rows


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


def _serve_hello(port: int) -> None:
    """The baseline: a plain Sanic JSON hello endpoint, one worker."""
    from sanic import Sanic, json

    app = Sanic("bench_hello")

    @app.get("/hello")
    async def hello(request: Any) -> Any:
        """Hello."""
        return json({"hello": "world"})

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["hello"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _serve_hello(args.port)
