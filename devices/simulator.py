"""A native-protocol device simulator: point it at a running server and watch punches arrive.

It heartbeats (and answers commands), fetches the person list, then sends punches for the persons
it learnt, retrying a request until it gets a 200 as a real terminal does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import uuid
from typing import Any

import httpx

from services.devices import signed_headers


class Simulator:
    """One simulated terminal speaking the signed native protocol over HTTP."""

    def __init__(self, url: str, sn: str, secret: str, firmware: str = "1.0.0") -> None:
        self.url = url.rstrip("/")
        self.sn = sn
        self.secret = secret
        self.firmware = firmware
        self.persons: dict[str, dict[str, Any]] = {}
        self.cursor = ""
        self.client = httpx.AsyncClient(timeout=15)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def request(
        self, method: str, path: str, body: Any = None, retries: int = 5
    ) -> httpx.Response:
        """A signed request, retried (fresh nonce each time) until a non-5xx reply."""
        data = json.dumps(body).encode() if body is not None else b""
        for attempt in range(retries):
            headers = signed_headers(self.sn, self.secret, method, path, data)
            headers["Content-Type"] = "application/json"
            try:
                r = await self.client.request(
                    method, self.url + path, content=data, headers=headers
                )
            except httpx.HTTPError as exc:
                print(f"  ! {method} {path}: {exc!r}, retrying")
                await asyncio.sleep(min(2**attempt, 10))
                continue
            if r.status_code < 500:
                return r
            await asyncio.sleep(min(2**attempt, 10))
        raise RuntimeError(f"{method} {path}: no answer after {retries} attempts")

    async def heartbeat(self) -> list[dict[str, Any]]:
        """Heartbeat; acknowledge and act on the commands received."""
        r = await self.request(
            "POST",
            "/device/v1/heartbeat",
            {
                "firmware": self.firmware,
                "persons": len(self.persons),
                "faces": sum(1 for p in self.persons.values() if p["active"]),
            },
        )
        if r.status_code != 200:
            print(f"heartbeat refused: {r.status_code} {r.text}")
            return []
        commands = r.json()["commands"]
        for cmd in commands:
            print(f"command {cmd['id']}: {cmd['type']} {cmd['params']}")
            ack: dict[str, Any] = {"ok": True, "message": "simulated"}
            if cmd["type"] == "upgrade":
                self.firmware = cmd["params"]["version"]
                ack["firmware"] = self.firmware
            elif cmd["type"] == "sync_persons":
                if cmd["params"].get("full"):
                    self.cursor, self.persons = "", {}
                await self.sync_persons()
            await self.request("POST", f"/device/v1/commands/{cmd['id']}/ack", ack)
        return commands

    async def sync_persons(self) -> int:
        """Fetch the person delta until ``more`` is false."""
        changed = 0
        while True:
            path = "/device/v1/persons" + (f"?cursor={self.cursor}" if self.cursor else "")
            r = await self.request("GET", path)
            r.raise_for_status()
            data = r.json()
            for p in data["persons"]:
                self.persons[p["pin"]] = p
                changed += 1
            self.cursor = data["cursor"]
            if not data["more"]:
                break
        print(f"persons: {changed} changed, {len(self.persons)} known")
        return changed

    async def punch(
        self, count: int, batch: int = 50, liveness: bool = True, days_ago: int = 0
    ) -> list[dict[str, Any]]:
        """Send ``count`` punches for known persons; print each result."""
        people = [p for p in self.persons.values() if p["active"]] or list(self.persons.values())
        if not people:
            print("no persons known to this terminal: enrol someone first")
            return []
        tz = dt.timezone(dt.timedelta(hours=8))
        results: list[dict[str, Any]] = []
        pending = []
        for _ in range(count):
            person = random.choice(people)
            when = dt.datetime.now(tz).replace(microsecond=0) - dt.timedelta(days=days_ago)
            pending.append(
                {
                    "id": uuid.uuid4().hex[:16],
                    "person_id": person["person_id"],
                    "time": when.isoformat(),
                    "liveness": liveness,
                    "direction": random.choice(["in", "out"]),
                }
            )
        for start in range(0, len(pending), batch):
            chunk = pending[start : start + batch]
            r = await self.request("POST", "/device/v1/punches", {"punches": chunk}, retries=20)
            if r.status_code != 200:
                print(f"punches refused: {r.status_code} {r.text}")
                break
            for res in r.json()["results"]:
                print(f"punch {res['id']}: {res['status']} {res.get('reason') or ''}".rstrip())
                results.append(res)
        return results


async def run(
    url: str,
    sn: str,
    secret: str,
    punches: int,
    batch: int,
    interval: float,
    rounds: int,
    liveness: bool = True,
    days_ago: int = 0,
) -> int:
    """Heartbeat, sync persons, punch; repeat ``rounds`` times (0: forever)."""
    sim = Simulator(url, sn, secret)
    try:
        n = 0
        while rounds == 0 or n < rounds:
            await sim.heartbeat()
            await sim.sync_persons()
            if punches:
                await sim.punch(punches, batch, liveness, days_ago)
            n += 1
            if rounds == 0 or n < rounds:
                await asyncio.sleep(interval)
    finally:
        await sim.close()
    return 0
