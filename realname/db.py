"""Database wiring: the Tortoise config built from ``DATABASE_URL``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise

from config.settings import Settings, get_settings
from models import MODEL_MODULES


def _normalise_url(url: str) -> str:
    """Accept ``postgresql://`` as well as Tortoise's ``postgres://``; make SQLite dirs exist."""
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite://:memory:"):
        path = Path(url[len("sqlite://") :].split("?", 1)[0])
        path.parent.mkdir(parents=True, exist_ok=True)
    return url


# Our subclasses of Tortoise's clients: no cancellation can leave their lock held, a connection
# half open or a pooled connection unreturned (see realname/dbclient/__init__.py).
_ENGINES = {
    "tortoise.backends.sqlite": "realname.dbclient.sqlite",
    "tortoise.backends.asyncpg": "realname.dbclient.postgres",
}


def connection_config(url: str) -> dict[str, Any]:
    """The Tortoise connection entry for a database URL, using the cancellation-safe clients."""
    from tortoise.backends.base.config_generator import expand_db_url

    info = expand_db_url(_normalise_url(url))
    info["engine"] = _ENGINES.get(info["engine"], info["engine"])
    return info


def _clean(text: str) -> str:
    return text.replace("'", "’").replace(";", ",")


def _sanitise_descriptions() -> None:
    """Docstrings become SQL comments; Tortoise escapes neither quotes nor semicolons in them."""
    import importlib

    from tortoise.models import Model

    for name in MODEL_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Model) and obj is not Model:
                meta = obj._meta
                if meta.table_description:
                    meta.table_description = _clean(meta.table_description)
                for field in meta.fields_map.values():
                    if field.description:
                        field.description = _clean(field.description)


def _model_classes() -> list[type[Any]]:
    import importlib

    from tortoise.models import Model

    found: dict[str, type[Any]] = {}
    for name in MODEL_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Model) and obj is not Model:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def _index_columns() -> None:
    """Name the columns of every ``indexes``/``unique_together`` entry by column, not relation.

    Models declare ``indexes = (("member", "local_date"),)`` with the relation's name. Tortoise's
    ``generate_schemas`` resolves ``member`` to the ``member_id`` column, but its migration writer
    copies the names into ``Index(fields=[...])`` and the migration's schema editor uses them
    verbatim: ``CREATE INDEX ... ("member", "local_date")`` fails on PostgreSQL (no such column)
    and on SQLite indexes a constant string. Rewriting the declarations to the key fields
    (``member_id``) before Tortoise reads them makes both paths create the same, real index.
    """
    from tortoise.fields.relational import ForeignKeyFieldInstance, OneToOneFieldInstance
    from tortoise.indexes import Index

    for model in _model_classes():
        meta = model._meta
        if meta.abstract:
            continue

        def column(name: str, fields_map: dict[str, Any] = meta.fields_map) -> str:
            field = fields_map.get(name)
            if isinstance(field, ForeignKeyFieldInstance | OneToOneFieldInstance):
                return f"{name}_id"
            return name

        indexes: list[Any] = []
        for index in meta.indexes:
            if isinstance(index, Index):
                if index.fields:
                    index.fields = [column(name) for name in index.fields]
                indexes.append(index)
            else:
                indexes.append(tuple(column(name) for name in index))
        meta.indexes = tuple(indexes)
        meta.unique_together = tuple(
            tuple(column(name) for name in names) for names in meta.unique_together
        )


def tortoise_config(settings: Settings | None = None) -> dict[str, Any]:
    """The Tortoise ORM configuration dict (also used by the ``tortoise`` CLI)."""
    settings = settings or get_settings()
    _sanitise_descriptions()
    _index_columns()
    return {
        "connections": {"default": connection_config(settings.database_url)},
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(settings: Settings | None = None) -> bool:
    """True when the configured database is PostgreSQL."""
    return (settings or get_settings()).database_url.startswith(("postgres://", "postgresql://"))


async def init_db(settings: Settings | None = None, *, create_schema: bool = False) -> None:
    """Open the database connections.

    ``create_schema`` (tests and throwaway databases) first applies the migrations, exactly as
    ``realname migrate`` does, so the schema is the one users get (never ``generate_schemas``);
    on an already migrated database it changes nothing.
    """
    # Rows cached per process (devices, projects, members, zones) belong to the previous database.
    from services import caches

    caches.forget_all()
    if create_schema:
        await migrate(settings)
    # Global fallback: request handlers run in tasks other than the one that initialised.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    """Close every database connection."""
    await Tortoise.close_connections()


async def migrate(settings: Settings | None = None) -> None:
    """Apply the schema migrations (``realname migrate``)."""
    from tortoise.migrations.api import migrate as run_migrations

    await run_migrations(config=tortoise_config(settings))
    await Tortoise.close_connections()


# The `tortoise` CLI reads this: `tortoise -c realname.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config()
