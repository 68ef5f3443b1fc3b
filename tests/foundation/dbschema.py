"""Read a database's schema (tables, columns, indexes, constraints) to compare two databases.

Both engines give the same shape, one entry per table::

    {"columns": {name: (type, not_null, default)},
     "indexes": {(kind, (column, ...))},          # kind: primary | unique | index
     "constraints": {(kind, (column, ...), referenced table, (column, ...), on delete)}}

An index on something that is not a column (an expression, or SQLite's constant string when a
quoted name matches no column) has ``None`` in its column list.
"""

from __future__ import annotations

import sqlite3
from typing import Any

Schema = dict[str, dict[str, Any]]

SKIP_TABLES = {"tortoise_migrations"}

_SQLITE_ON_DELETE = {
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "SET NULL": "set null",
    "SET DEFAULT": "set default",
    "NO ACTION": "no action",
}
_PG_ON_DELETE = {
    "c": "cascade",
    "r": "restrict",
    "n": "set null",
    "d": "set default",
    "a": "no action",
}


def sqlite_schema(path: str) -> Schema:
    """The schema of a SQLite database file."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            if r[0] not in SKIP_TABLES
        ]
        schema: Schema = {}
        for table in tables:
            columns = {
                name: (ctype.upper(), bool(notnull) or pk > 0, default)
                for _, name, ctype, notnull, default, pk in conn.execute(
                    f"PRAGMA table_info('{table}')"
                )
            }
            indexes, constraints = set(), set()
            pk_cols = tuple(
                r[1]
                for r in sorted(conn.execute(f"PRAGMA table_info('{table}')"), key=lambda r: r[5])
                if r[5] > 0
            )
            if pk_cols:  # an INTEGER PRIMARY KEY is the rowid: no separate index, same meaning
                indexes.add(("primary", pk_cols))
                constraints.add(("primary", pk_cols, None, (), None))
            for _, name, unique, origin, _partial in conn.execute(f"PRAGMA index_list('{table}')"):
                cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info('{name}')"))
                if origin == "pk":
                    continue
                indexes.add(("unique" if unique else "index", cols))
                if origin == "u":
                    constraints.add(("unique", cols, None, (), None))
            fks: dict[int, list[Any]] = {}
            for fk_id, _seq, ref, col, ref_col, _upd, on_delete, _match in conn.execute(
                f"PRAGMA foreign_key_list('{table}')"
            ):
                entry = fks.setdefault(fk_id, [[], ref, [], _SQLITE_ON_DELETE.get(on_delete)])
                entry[0].append(col)
                entry[2].append(ref_col)
            for cols, ref, ref_cols, on_delete in fks.values():
                constraints.add(("foreign", tuple(cols), ref, tuple(ref_cols), on_delete))
            schema[table] = {"columns": columns, "indexes": indexes, "constraints": constraints}
        return schema
    finally:
        conn.close()


_PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
"""
_PG_INDEXES = """
SELECT c.relname, ix.indisprimary, ix.indisunique,
       ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             ORDER BY k.ord)
FROM pg_index ix
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind = 'r'
"""
_PG_CONSTRAINTS = """
SELECT c.relname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord),
       rc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord),
       con.confdeltype, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
WHERE n.nspname = $1
"""


async def postgres_schema(conn: Any, namespace: str) -> Schema:
    """The schema of one PostgreSQL namespace, read through an asyncpg connection."""

    def unqualified(text: str | None) -> str | None:
        # nextval('<namespace>.punch_id_seq'::regclass): the namespace differs between the two
        # databases compared; the sequence does not.
        if text is None:
            return None
        return text.replace(f'"{namespace}".', "").replace(f"{namespace}.", "")

    schema: Schema = {}

    def table(name: str) -> dict[str, Any]:
        return schema.setdefault(name, {"columns": {}, "indexes": set(), "constraints": set()})

    for rel, col, ctype, notnull, default in await conn.fetch(_PG_COLUMNS, namespace):
        if rel not in SKIP_TABLES:
            table(rel)["columns"][col] = (ctype, notnull, unqualified(default))
    for rel, primary, unique, cols in await conn.fetch(_PG_INDEXES, namespace):
        if rel not in SKIP_TABLES:
            kind = "primary" if primary else "unique" if unique else "index"
            table(rel)["indexes"].add((kind, tuple(cols)))
    for rel, contype, cols, ref, ref_cols, deltype, definition in await conn.fetch(
        _PG_CONSTRAINTS, namespace
    ):
        if rel in SKIP_TABLES:
            continue
        if contype == "p":
            item = ("primary", tuple(cols), None, (), None)
        elif contype == "u":
            item = ("unique", tuple(cols), None, (), None)
        elif contype == "f":
            item = ("foreign", tuple(cols), ref, tuple(ref_cols), _PG_ON_DELETE[deltype])
        else:  # check and others: their definition
            item = (f"check {unqualified(definition)}", tuple(cols), None, (), None)
        table(rel)["constraints"].add(item)
    return schema


def differences(models: Schema, migrated: Schema) -> list[str]:
    """What the migrated schema lacks or adds compared with the one generated from the models."""
    out: list[str] = []
    for name in sorted(models.keys() | migrated.keys()):
        if name not in migrated:
            out.append(f"table {name}: missing from the migrations")
            continue
        if name not in models:
            out.append(f"table {name}: created by the migrations, not in the models")
            continue
        want, got = models[name], migrated[name]
        for col in sorted(want["columns"].keys() | got["columns"].keys()):
            w, g = want["columns"].get(col), got["columns"].get(col)
            if w != g:
                out.append(f"{name}.{col}: models {w}, migrations {g}")
        for part in ("indexes", "constraints"):
            for item in sorted(want[part] - got[part], key=repr):
                out.append(f"{name}: {part} {item} missing from the migrations")
            for item in sorted(got[part] - want[part], key=repr):
                out.append(f"{name}: {part} {item} created by the migrations, not in the models")
    return out


def non_column_indexes(schema: Schema) -> list[str]:
    """Indexes (or constraints) naming something that is not a column of their table."""
    out = []
    for name, t in sorted(schema.items()):
        for kind, cols in sorted(t["indexes"], key=repr):
            if any(c is None or c not in t["columns"] for c in cols):
                out.append(f"{name}: {kind} index on {cols}")
        for item in sorted(t["constraints"], key=repr):
            if any(c is None or c not in t["columns"] for c in item[1]):
                out.append(f"{name}: {item[0]} constraint on {item[1]}")
    return out
