"""Harness of the durability tests: real ``realname serve`` processes killed with SIGKILL while
terminals send signed punch batches with retries, and the final reckoning against the database.

A terminal (``Load``) keeps sending new batches (1 to 40 punches, fresh ids) and re-sends a batch
with the same punch ids until a 200 reply comes back, as the device contract asks. Every result of
a 200 reply is an acknowledgement. ``reckon`` then compares the database with the acknowledged ids:
nothing acknowledged missing, nothing stored twice, and every accepted punch's day settled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from models import DailyAttendance, Punch
from models.settlement import PendingSettlement
from services import attendance, localtime
from services import devices as svc
from tests.devices.helpers import Dev, punch
from tests.factories import site_today

ROOT = Path(__file__).resolve().parents[2]
CST = dt.timezone(dt.timedelta(hours=8))
# Members entered a few days ago: punches of the last 36 hours fall after their entry date, and no
# contract warning blocks them yet (red only after 30 days without a contract).
ENTRY = site_today() - dt.timedelta(days=5)


# Runs a command with "SIGKILL me when my parent dies" set (Linux prctl PR_SET_PDEATHSIG, kept
# across exec): a test run that is itself killed leaves no server or nginx master behind. Set in
# the child itself, not in a preexec_fn (unsafe in a process with threads).
_PDEATHSIG_EXEC = (
    "import ctypes, os, sys\n"
    "if sys.platform.startswith('linux'): ctypes.CDLL(None).prctl(1, 9)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def dies_with_us(cmd: list[str]) -> list[str]:
    """``cmd`` wrapped so that it is SIGKILLed if the test process dies."""
    return [sys.executable, "-c", _PDEATHSIG_EXEC, *cmd]


def exited(proc: subprocess.Popen) -> bool:
    """Whether the process has exited, *without reaping it*: until ``wait()`` its pid (the
    process group's id) cannot be reused, so a later ``killpg`` never reaches a stranger."""
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # already reaped
        return True
    return info is not None


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the process group led by ``proc`` (never reaped before: see ``exited``)."""
    if proc.returncode is not None:  # reaped: its group id may belong to someone else now
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def server_env(settings: Any, redis_url: str) -> dict[str, str]:
    """The environment of a server process: the test session's database, Redis and stand-ins."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": redis_url,
            "ENV": "test",
            "STORAGE_URL": settings.storage_url,
            "EMBEDDED_REDIS_DIR": settings.embedded_redis_dir,
            "LOG_LEVEL": "WARNING",
            "WECHAT_API_BASE": settings.wechat_api_base,
            "IDAUTH_BASE_URL": settings.idauth_base_url,
        }
    )
    return env


@dataclass
class Server:
    """One ``realname serve`` instance (its own process group, so SIGKILL reaches its workers)."""

    name: str
    port: int
    env: dict[str, str]
    log_dir: Path
    workers: int = 1
    proc: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"{self.name}-{self.starts}.log", "wb")  # noqa: SIM115
        cmd = [sys.executable, "-m", "realname.cli", "serve", "--port", str(self.port)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        try:
            self.proc = subprocess.Popen(
                dies_with_us(cmd),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def kill(self) -> None:
        """SIGKILL the server's whole process group (main process and workers), nothing else."""
        if self.proc is None:
            return
        kill_group(self.proc)
        self.proc.wait()
        self.proc = None

    def log_tail(self) -> str:
        path = self.log_dir / f"{self.name}-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    async def wait_ready(self, timeout: float = 120) -> None:
        """Until ``/healthz`` answers 200 (every worker shares the listening socket). Bounded
        generously: start-up time is not what these tests measure, and two workers loading the
        app on a busy 2-core machine took over 45 s."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc is None or exited(self.proc):
                    raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")


@dataclass
class Reply:
    """A 200 reply as the terminals saw it: when, which instance answered, how many results."""

    at: float
    upstream: str
    results: int


@dataclass
class Load:
    """Terminals sending signed batches with retries to ``base`` (one sender per device)."""

    base: str
    devices: list[Dev]
    person_ids: list[int]
    batch_sizes: tuple[int, ...] = (1, 1, 1, 3, 10, 25, 40)
    pause: float = 0.02  # between two batches of a terminal (a terminal does not send flat out)
    acknowledged: dict[tuple[str, str], str] = field(default_factory=dict)
    sent: set[tuple[str, str]] = field(default_factory=set)
    in_flight: int = 0
    replies: list[Reply] = field(default_factory=list)
    early_duplicates: list[tuple[str, str]] = field(default_factory=list)
    bad_results: list[dict[str, Any]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)

    def acks_since(self, since: float, upstream: str | None = None) -> int:
        """Punches acknowledged by replies that came back after ``since`` (by one instance)."""
        return sum(
            r.results
            for r in self.replies
            if r.at > since and (upstream is None or r.upstream == upstream)
        )

    def _batch(self, name: str, n: int) -> list[dict[str, Any]]:
        now = dt.datetime.now(CST).replace(microsecond=0)
        out = []
        for i in range(random.choice(self.batch_sizes)):
            when = now - dt.timedelta(seconds=random.randint(60, 36 * 3600))
            out.append(
                punch(
                    f"{name}-{n}-{i}",
                    random.choice(self.person_ids),
                    when=when,
                    direction=random.choice(("in", "out")),
                )
            )
        return out

    async def terminal(self, dev: Dev) -> None:
        """Send new batches until told to stop; the batch in hand is re-sent until a 200."""
        path = "/device/v1/punches"
        n = 0
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as client:
            while not self.stop.is_set():
                n += 1
                batch = self._batch(dev.sn, n)
                body = json.dumps({"punches": batch}).encode()
                self.sent.update((dev.sn, p["id"]) for p in batch)
                attempt = 0
                while True:
                    attempt += 1
                    h = svc.signed_headers(dev.sn, dev.secret, "POST", path, body)
                    h["Content-Type"] = "application/json"
                    self.in_flight += 1
                    try:
                        r = await client.post(path, content=body, headers=h)
                    except httpx.HTTPError:
                        r = None
                    finally:
                        self.in_flight -= 1
                    if r is not None and r.status_code == 200:
                        break
                    await asyncio.sleep(0.05)
                results = r.json()["results"]
                upstream = r.headers.get("x-upstream", "").split(",")[-1].strip()
                self.replies.append(Reply(time.monotonic(), upstream, len(results)))
                for res in results:
                    key = (dev.sn, str(res["id"]))
                    if res["status"] not in ("accepted", "duplicate"):
                        self.bad_results.append(res)
                    if res["status"] == "duplicate" and attempt == 1:
                        self.early_duplicates.append(key)  # never sent before: a false duplicate
                    self.acknowledged[key] = res["status"]
                await asyncio.sleep(random.uniform(0, 2 * self.pause))

    def run(self) -> None:
        """Start one sender per device."""
        self.tasks = [asyncio.ensure_future(self.terminal(d)) for d in self.devices]

    async def finish(self, member_ids: list[int], timezone: str | None) -> Reckoning:
        """Stop the senders once their batches in hand are acknowledged, then ``reckon``."""
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=60)
        return await reckon(self, member_ids, timezone)

    def abandon(self) -> None:
        """Stop the senders at once (the test's clean-up, whatever happened)."""
        self.stop.set()
        for task in self.tasks:
            task.cancel()


async def wait_for_kill_moment(load: Load, since: float, need: int, upstream: str | None = None):
    """Wait until ``need`` punches were acknowledged since ``since`` (by ``upstream`` when given)
    and a request is in flight; returns (acks, in flight) at that moment (no await follows
    before the caller's kill, so both still hold when the signal is sent)."""
    deadline = time.monotonic() + 90  # a bound, not a wait: it returns at the first moment
    while time.monotonic() < deadline:
        acks = load.acks_since(since, upstream)
        if acks >= need and load.in_flight > 0:
            return acks, load.in_flight
        await asyncio.sleep(0.002)
    raise AssertionError(
        f"no kill moment: {load.acks_since(since, upstream)} acks, {load.in_flight} in flight"
    )


@dataclass
class Reckoning:
    sent: int
    acknowledged: int
    missing: list[tuple[str, str]]
    doubled: list[tuple[str, str]]
    unsettled: list[tuple[int, dt.date]]
    wrong_days: list[tuple[int, dt.date]]
    pending: int


async def _settlement_gaps(
    member_ids: list[int], today: dt.date
) -> tuple[list[tuple[int, dt.date]], list[tuple[int, dt.date]], int]:
    punches: dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]] = defaultdict(list)
    for member_id, day, t, d in await Punch.filter(
        member_id__in=member_ids, status="accepted"
    ).values_list("member_id", "local_date", "time", "direction"):
        punches[(member_id, day)].append((t, str(getattr(d, "value", d))))
    rows = {
        (r.member_id, r.day): r  # type: ignore[attr-defined]
        for r in await DailyAttendance.filter(member_id__in=member_ids)
    }
    unsettled, wrong = [], []
    for key, items in punches.items():
        row = rows.get(key)
        if row is None:
            unsettled.append(key)
            continue
        state, first_in, last_out, seconds, count = attendance.settle(items, key[1], today)
        if (row.state, row.first_in, row.last_out, row.duration_seconds, row.punch_count) != (
            state,
            first_in,
            last_out,
            seconds,
            count,
        ):
            wrong.append(key)
    pending = await PendingSettlement.filter(member_id__in=member_ids).count()
    return unsettled, wrong, pending


async def reckon(
    load: Load, member_ids: list[int], timezone: str | None, settle_timeout: float = 20
) -> Reckoning:
    """Compare the database with what was acknowledged; wait (up to ``settle_timeout``) for the
    settlement of every accepted punch's day to converge (the sweep runs every 5 s)."""
    sns = [d.sn for d in load.devices]
    rows = await Punch.filter(device__sn__in=sns).values_list("device__sn", "device_punch_id")
    stored = Counter((sn, key) for sn, key in rows)
    missing = sorted(k for k in load.acknowledged if k not in stored)
    doubled = sorted(k for k, n in stored.items() if n > 1)
    today = localtime.today(attendance.zone(timezone))
    deadline = time.monotonic() + settle_timeout
    while True:
        unsettled, wrong, pending = await _settlement_gaps(member_ids, today)
        if (not unsettled and not wrong and not pending) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    return Reckoning(
        len(load.sent), len(load.acknowledged), missing, doubled, unsettled, wrong, pending
    )
