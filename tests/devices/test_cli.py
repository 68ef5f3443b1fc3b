"""``realname device register`` run as a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services import devices as svc
from tests.conftest import uid
from tests.factories import make_project

ROOT = Path(__file__).resolve().parents[2]


def _env(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "ENV": "test",
            "LOG_LEVEL": "WARNING",
            "STORAGE_URL": settings.storage_url,
        }
    )
    return env


def register_attendance_device(settings, project_code: str, sn: str) -> subprocess.CompletedProcess:
    """``realname device register`` of an attendance terminal, run as an operator would."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "realname.cli",
            "device",
            "register",
            "--project",
            project_code,
            "--kind",
            "attendance",
            "--sn",
            sn,
            "--manufacturer",
            "海康",
            "--model",
            "DS-K1",
        ],
        cwd=ROOT,
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_device_register_prints_json_with_a_working_secret(settings, database):
    world = await make_project()
    sn = uid("CLI")
    out = register_attendance_device(settings, world.project.code, sn)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["sn"] == sn and data["secret"]
    auth = await svc.load_device(sn)
    assert auth is not None and auth.secret.decode() == data["secret"]
    assert auth.device.project_id == world.project.id  # type: ignore[attr-defined]


async def test_device_register_unknown_project_fails(settings, database):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "realname.cli",
            "device",
            "register",
            "--project",
            "NOPE-" + uid(),
            "--kind",
            "attendance",
            "--sn",
            uid("CLI"),
            "--manufacturer",
            "m",
            "--model",
            "x",
        ],
        cwd=ROOT,
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and not out.stdout.strip()
