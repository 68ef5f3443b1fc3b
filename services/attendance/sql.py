"""Raw-SQL helpers shared by settlement and statistics (dialect, VALUES placeholders)."""

from __future__ import annotations

from tortoise import connections

_CHUNK = 500  # members per IN (...) list, rows per upsert statement


def _dialect() -> str:
    return connections.get("default").capabilities.dialect


def _marks(n_rows: int, width: int, pg: bool, start: int = 1) -> str:
    """``(?,?),(?,?)`` or ``($1,$2),($3,$4)`` for a multi-row VALUES list."""
    if not pg:
        one = "(" + ",".join("?" * width) + ")"
        return ",".join([one] * n_rows)
    out = []
    i = start
    for _ in range(n_rows):
        out.append("(" + ",".join(f"${i + k}" for k in range(width)) + ")")
        i += width
    return ",".join(out)
