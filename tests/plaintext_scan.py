"""After the whole suite: no table may hold, in clear, an ID number or phone number that the
factories generated during the run (rule 11: personal data encrypted at rest).

Every column of every table is read on the engine in use (SQLite or PostgreSQL), as text; ID
numbers and phones are looked for inside longer values too (JSON payloads, logs, CSV cells).
"""

from __future__ import annotations

import re
from typing import Any

from tortoise import connections

from tests.factories import GENERATED_ID_NUMBERS, GENERATED_PHONES

_RUN = re.compile(r"\d{11,}[Xx]?")


def _found_in(text: str, ids: set[str], phones: set[str]) -> set[str]:
    hits: set[str] = set()
    for match in _RUN.finditer(text):
        run = match.group(0).upper()
        for width, values in ((18, ids), (11, phones)):
            for i in range(len(run) - width + 1):
                part = run[i : i + width]
                if part in values:
                    hits.add(part)
    return hits


async def _tables(conn: Any, pg: bool) -> dict[str, list[str]]:
    if pg:
        _, rows = await conn.execute_query(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        tables: dict[str, list[str]] = {}
        for table, column, data_type in rows:
            # bytea as text would be hex: keep its printable bytes as they are instead
            expr = (
                f"encode(\"{column}\", 'escape')"
                if data_type == "bytea"
                else f'CAST("{column}" AS TEXT)'
            )
            tables.setdefault(table, []).append(expr)
        return tables
    _, rows = await conn.execute_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    tables = {}
    for (table,) in rows:
        _, cols = await conn.execute_query(f'PRAGMA table_info("{table}")')
        tables[table] = [f'CAST("{c[1]}" AS TEXT)' for c in cols]
    return tables


async def scan() -> list[str]:
    """``table.column: masked value`` for every generated ID number or phone found in clear."""
    ids = {v.upper() for v in GENERATED_ID_NUMBERS}
    phones = set(GENERATED_PHONES)
    if not ids and not phones:
        return []
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    leaks: list[str] = []
    for table, columns in (await _tables(conn, pg)).items():
        select = ", ".join(columns)
        _, rows = await conn.execute_query(f'SELECT {select} FROM "{table}"')
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                if isinstance(value, bytes | bytearray | memoryview):
                    value = bytes(value).decode("latin-1")
                for hit in _found_in(str(value), ids, phones):
                    name = column.split('"')[1]
                    leaks.append(f"{table}.{name}: {hit[:3]}…{hit[-4:]}")
    return sorted(set(leaks))
