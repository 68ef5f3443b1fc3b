"""Migrations build the schema the models describe (SQLite, and PostgreSQL with DATABASE_URL);
``realname migrate`` + ``realname seed-demo`` work on an empty database and the settlement read
uses the punch (member_id, local_date) index; surfaces can be served separately; logs carry no
query strings."""

import asyncio
import contextlib
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sanic import Sanic

from config.settings import Settings
from tests.foundation import dbschema

ROOT = Path(__file__).resolve().parents[2]

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

# Apply the migrations of another package (a deliberately broken copy), as `realname migrate`
# applies ours.
MIGRATE_FROM = textwrap.dedent("""
    import asyncio, sys
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate
    from realname.db import tortoise_config
    from config.settings import Settings
    async def main():
        config = tortoise_config(Settings(database_url=sys.argv[1]))
        config["apps"]["models"]["migrations"] = sys.argv[2]
        await migrate(config=config)
        await Tortoise.close_connections()
    asyncio.run(main())
""")

ENGINES = ["sqlite", "postgres"]


def _env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "ENV": "test",
        "DATABASE_URL": url,
        "PATH": "/usr/bin:/bin",
        "EMBEDDED_REDIS_DIR": str(tmp_path / "redis"),
        "STORAGE_URL": f"file://{tmp_path / 'files'}",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def _run(env: dict[str, str], *args: str) -> str:
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, f"{args[-1]}: {out.stderr[-3000:]}"
    return out.stdout


class Fresh:
    """Empty databases of one engine: SQLite files, or PostgreSQL namespaces (schemas) of the
    session's test database, dropped at the end."""

    def __init__(self, engine: str, settings: Settings, tmp_path: Path) -> None:
        self.engine, self.settings, self.tmp_path = engine, settings, tmp_path
        self.namespaces: list[str] = []
        self.conn = None

    async def url(self, name: str) -> str:
        if self.engine == "sqlite":
            return f"sqlite://{self.tmp_path / name}.sqlite3"
        namespace = f"schema_test_{name}_{uuid.uuid4().hex[:8]}"
        await self.conn.execute(f'CREATE SCHEMA "{namespace}"')
        self.namespaces.append(namespace)
        base = self.settings.database_url
        return f"{base}{'&' if '?' in base else '?'}schema={namespace}"

    async def schema(self, url: str) -> dbschema.Schema:
        if self.engine == "sqlite":
            return dbschema.sqlite_schema(url[len("sqlite://") :])
        return await dbschema.postgres_schema(self.conn, url.rsplit("schema=", 1)[1])


@contextlib.asynccontextmanager
async def fresh(engine: str, settings: Settings, tmp_path: Path) -> AsyncIterator[Fresh]:
    from realname import db

    if engine == "postgres" and not db.is_postgres(settings):
        pytest.skip("PostgreSQL: set DATABASE_URL to a PostgreSQL test database")
    f = Fresh(engine, settings, tmp_path)
    if engine == "postgres":
        import asyncpg

        f.conn = await asyncpg.connect(
            settings.database_url.replace("postgres://", "postgresql://", 1)
        )
    try:
        yield f
    finally:
        if f.conn is not None:
            for namespace in f.namespaces:
                await f.conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
            await f.conn.close()


@pytest.mark.parametrize("engine", ENGINES)
async def test_migrations_match_models(engine, settings, tmp_path):
    """`realname migrate` builds exactly what `generate_schemas` builds from the models: tables,
    columns (type, nullability, default), indexes by column list, unique and foreign keys."""
    async with fresh(engine, settings, tmp_path) as db:
        migrated, generated = await db.url("migrated"), await db.url("generated")
        await _run(_env(migrated, tmp_path), "-m", "realname.cli", "migrate")
        await _run(_env(generated, tmp_path), "-c", GENERATE, generated)
        got, want = await db.schema(migrated), await db.schema(generated)
    assert len(want) >= 25 and "punch" in want
    assert ("index", ("member_id", "local_date")) in want["punch"]["indexes"]
    assert not dbschema.non_column_indexes(want), "a model index names no column"
    assert not dbschema.non_column_indexes(got), "a migration indexes no column"
    diff = dbschema.differences(want, got)
    assert not diff, "migrations/ is out of date, run `make migrations`:\n" + "\n".join(diff)


@pytest.mark.parametrize("engine", ENGINES)
async def test_schema_comparison_catches_broken_migrations(engine, settings, tmp_path):
    """The comparison above fails on a migration that indexes the wrong (or no) columns or lacks
    a unique constraint."""
    text = (ROOT / "migrations" / "0001_initial.py").read_text(encoding="utf-8")
    index = "Index(fields=['member_id', 'local_date'])"
    unique = "'unique_together': (('device_id', 'device_punch_id'),), "
    assert index in text and unique in text
    # SQLite accepts an index on a name that is no column (a constant); PostgreSQL refuses it.
    broken_index = (
        "Index(fields=['member', 'local_date'])"
        if engine == "sqlite"
        else ("Index(fields=['member_id'])")
    )
    package = tmp_path / "broken_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_initial.py").write_text(
        text.replace(index, broken_index).replace(unique, ""), encoding="utf-8"
    )
    async with fresh(engine, settings, tmp_path) as db:
        migrated, generated = await db.url("broken"), await db.url("generated")
        env = _env(migrated, tmp_path, PYTHONPATH=f"{tmp_path}:{ROOT}")
        await _run(env, "-c", MIGRATE_FROM, migrated, "broken_migrations")
        await _run(_env(generated, tmp_path), "-c", GENERATE, generated)
        got, want = await db.schema(migrated), await db.schema(generated)
    diff = dbschema.differences(want, got)
    assert any("('index', ('member_id', 'local_date')) missing" in d for d in diff), diff
    assert any("('unique', ('device_id', 'device_punch_id')" in d for d in diff), diff
    if engine == "sqlite":
        assert dbschema.non_column_indexes(got) == ["punch: index index on (None, 'local_date')"]


# `make migrations`, writing into an empty package instead of migrations/.
MAKEMIGRATIONS = textwrap.dedent("""
    import sys
    from tortoise.cli.cli import main
    sys.argv = ["tortoise", "-c", "fresh_config.TORTOISE_ORM", "makemigrations"]
    main()
""")
FRESH_CONFIG = textwrap.dedent("""
    from config.settings import Settings
    from realname.db import tortoise_config
    TORTOISE_ORM = tortoise_config(Settings(database_url="sqlite://:memory:"))
    TORTOISE_ORM["apps"]["models"]["migrations"] = "fresh_migrations"
""")


async def test_make_migrations_rewrites_the_committed_migration(tmp_path):
    """Generating the initial migration from the models gives migrations/0001_initial.py as
    committed, with relations in indexes and unique constraints named by their *_id columns."""
    (tmp_path / "fresh_migrations").mkdir()
    (tmp_path / "fresh_migrations" / "__init__.py").write_text("")
    (tmp_path / "fresh_config.py").write_text(FRESH_CONFIG)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path}:{ROOT}", "ENV": "test"}
    await _run(env, "-c", MAKEMIGRATIONS)
    written = sorted(p.name for p in (tmp_path / "fresh_migrations").glob("0*.py"))
    assert written == ["0001_initial.py"]
    fresh = (tmp_path / "fresh_migrations" / "0001_initial.py").read_text(encoding="utf-8")
    assert "Index(fields=['member_id', 'local_date'])" in fresh
    assert "'unique_together': (('device_id', 'device_punch_id'),)" in fresh
    committed = (ROOT / "migrations" / "0001_initial.py").read_text(encoding="utf-8")
    assert fresh == committed, "migrations/0001_initial.py is out of date: run `make migrations`"


# The settlement reads of services.attendance: SQLite's per-day read, PostgreSQL's whole pass.
SQLITE_SETTLEMENT_READ = (
    "SELECT member_id, time, direction FROM punch WHERE local_date = ?"
    " AND status = 'accepted' AND member_id IN (?, ?)"
)


@pytest.mark.parametrize("engine", ENGINES)
async def test_migrate_and_seed_demo_on_an_empty_database(engine, settings, tmp_path):
    """The README's production path on an empty database; the settlement read then uses the
    punch (member_id, local_date) index instead of scanning the punch table."""
    async with fresh(engine, settings, tmp_path) as db:
        url = await db.url("empty")
        env = _env(url, tmp_path)
        out = await _run(env, "-m", "realname.cli", "migrate")
        assert "migrations applied" in out
        out = await _run(env, "-m", "realname.cli", "seed-demo")
        assert "QH-DEMO-001" in out
        got = await db.schema(url)
        index = [i for i in got["punch"]["indexes"] if i == ("index", ("member_id", "local_date"))]
        assert index, got["punch"]["indexes"]
        if engine == "sqlite":
            plan = _sqlite_plan(url[len("sqlite://") :])
        else:
            plan = await _postgres_plan(db.conn, url.rsplit("schema=", 1)[1])
    assert "idx_punch_member" in plan, plan


def _sqlite_plan(path: str) -> str:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        member, day = conn.execute(
            "SELECT member_id, local_date FROM punch WHERE status = 'accepted' LIMIT 1"
        ).fetchone()
        rows = conn.execute(f"EXPLAIN QUERY PLAN {SQLITE_SETTLEMENT_READ}", [day, member, member])
        return "\n".join(str(r[-1]) for r in rows)
    finally:
        conn.close()


async def _postgres_plan(conn, namespace: str) -> str:
    """EXPLAIN of the settlement statement (services.attendance.settlement._PG_SETTLE) for one demo
    member-day; its parameters are filled by type (id arrays with the member, date arrays with
    the day, the timestamp with now), so the test follows the statement as it evolves."""
    import datetime as dt

    from services.attendance.settlement import _PG_SETTLE

    async with conn.transaction():
        # The demo's punch table is small: forbid the sequential scan the planner would rightly
        # choose for it, so the plan shows whether an index serves the read at all.
        await conn.execute(f'SET LOCAL search_path = "{namespace}"')
        await conn.execute("SET LOCAL enable_seqscan = off")
        member, day = await conn.fetchrow(
            "SELECT member_id, local_date FROM punch WHERE status = 'accepted' LIMIT 1"
        )
        now = dt.datetime.now(dt.UTC)
        by_type = {"int4": member, "int8": member, "date": day, "timestamptz": now}
        args = []
        for param in (await conn.prepare(f"EXPLAIN {_PG_SETTLE}")).get_parameters():
            if param.name.startswith("_"):  # an array of the element type
                args.append([by_type.get(param.name[1:])])
            else:
                args.append(by_type.get(param.name))
        rows = await conn.fetch(f"EXPLAIN {_PG_SETTLE}", *args)
    return "\n".join(r[0] for r in rows)


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
