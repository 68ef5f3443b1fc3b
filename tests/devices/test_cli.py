"""``realname device register`` run as a real subprocess against the test database."""

from __future__ import annotations

import json
import subprocess

from services import devices as svc
from tests.factories import make_project
from tests.servers import cli_env, realname_cli
from tests.suite import uid


def register_attendance_device(
    settings, project_code: str, sn: str, manufacturer: str = "海康", model: str = "DS-K1"
) -> subprocess.CompletedProcess[str]:
    """``realname device register`` of an attendance terminal, run as an operator would."""
    args = ["device", "register", "--project", project_code, "--kind", "attendance", "--sn", sn]
    args += ["--manufacturer", manufacturer, "--model", model]
    return realname_cli(cli_env(settings), *args, timeout=60)


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
    out = register_attendance_device(settings, "NOPE-" + uid(), uid("CLI"), "m", "x")
    assert out.returncode != 0 and not out.stdout.strip()


async def test_settlement_failed_json_prints_only_json(settings, database):
    """``realname settlement failed --json`` is for scripts (one JSON object per line): with
    nothing set aside it prints no line at all (it printed a sentence, which a monitoring
    script's JSON parser choked on); the sentence stays for people. An unknown project is said
    on stderr (exit 2)."""
    world = await make_project()
    env = cli_env(settings)
    out = realname_cli(env, "settlement", "failed", "--project", world.project.code, "--json")
    assert (out.returncode, out.stdout) == (0, ""), out.stderr
    out = realname_cli(env, "settlement", "failed", "--project", world.project.code)
    assert out.returncode == 0 and "no set-aside days" in out.stdout, out.stderr
    out = realname_cli(env, "settlement", "failed", "--project", "NOPE-" + uid(), "--json")
    assert out.returncode == 2 and out.stdout == "" and "项目不存在" in out.stderr


def test_import_projects_names_a_file_it_cannot_read(settings, tmp_path):
    """A mistyped path: one line saying which file, exit 2, no traceback."""
    missing = tmp_path / "permits.json"
    out = realname_cli(cli_env(settings), "import-projects", str(missing), timeout=60)
    assert out.returncode == 2 and not out.stdout
    assert "Traceback" not in out.stderr and f"cannot read {missing}" in out.stderr
