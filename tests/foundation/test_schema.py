"""Migrations match the models; surfaces can be served separately; logs carry no query strings."""

import sqlite3
import subprocess
import sys
import textwrap

from sanic import Sanic

from config.settings import Settings

GENERATE = textwrap.dedent("""
    import asyncio, sys
    from tortoise import Tortoise
    from realname.db import tortoise_config
    from config.settings import Settings
    async def main():
        await Tortoise.init(config=tortoise_config(Settings(database_url=sys.argv[1])))
        await Tortoise.generate_schemas()
        await Tortoise.close_connections()
    asyncio.run(main())
""")


def _columns(path):
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name != 'tortoise_migrations'"
            )
        ]
        return {t: sorted(r[1] for r in conn.execute(f"PRAGMA table_info('{t}')")) for t in tables}
    finally:
        conn.close()


def test_migrations_match_models(tmp_path):
    migrated, generated = tmp_path / "m.sqlite3", tmp_path / "g.sqlite3"
    env = {
        "ENV": "test",
        "DATABASE_URL": f"sqlite://{migrated}",
        "PATH": "/usr/bin:/bin",
        "EMBEDDED_REDIS_DIR": str(tmp_path / "r"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "realname.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    out = subprocess.run(
        [sys.executable, "-c", GENERATE, f"sqlite://{generated}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    want, got = _columns(generated), _columns(migrated)
    assert got == want, "migrations/ is out of date: run `make migrations`"


def test_single_surface_app(settings):
    from realname.app import create_app

    app = create_app(
        settings.model_copy(update={"surfaces": "device"}),
        name="realname_dev_only",
        manage_db=False,
    )
    try:
        paths = {r.path for r in app.router.routes}
        assert any(p.startswith("device/v1") for p in paths)
        assert not any(p.startswith(("admin/v1", "miniapp/v1")) for p in paths)
    finally:
        Sanic._app_registry.pop("realname_dev_only", None)


async def test_access_log_has_no_query_string(client, caplog):
    caplog.set_level("INFO", logger="realname.access")
    await client.get("/admin/v1/projects?q=630102199001011234")
    lines = [r.getMessage() for r in caplog.records if r.name == "realname.access"]
    assert lines and all("630102199001011234" not in line for line in lines)


def test_settings_module_is_the_only_env_reader():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("admin_api", "miniapp_api", "devices", "models", "services", "integrations"):
        for path in (root / folder).rglob("*.py"):
            if "os.environ" in path.read_text(encoding="utf-8"):
                offenders.append(str(path.relative_to(root)))
    assert not offenders, f"only config/ reads the environment: {offenders}"


def test_settings_defaults_are_embedded(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(env="development", _env_file=None)
    assert "var" in s.database_url and s.redis_url == ""
