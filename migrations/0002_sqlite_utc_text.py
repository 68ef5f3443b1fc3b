"""SQLite only: rewrite stored moments as UTC text.

SQLite keeps a datetime as the text it was given, and compares and sorts that text. Until the
platform's sqlite3 adapter (``services.localtime.sqlite_text``) normalised every moment to UTC,
moments kept the offset they arrived with: a gate terminal's +08:00 next to a handset's Z, so a
day's punches listed out of order and window filters missed some. This rewrites every such value
of every timestamp column once. PostgreSQL stores instants (``timestamptz``): nothing to do.
"""

import datetime as dt

from tortoise import migrations
from tortoise.migrations import operations as ops


def utc_text(text: str) -> str | None:
    """The UTC text of a stored moment, or None when it needs no rewrite (UTC or naive already,
    not a moment, or with no UTC equivalent such as 0001-01-01 00:00+08:00)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if not moment.utcoffset():
        return None
    try:
        return moment.astimezone(dt.UTC).isoformat(" ")
    except OverflowError:
        return None


async def rewrite(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    _, tables = await client.execute_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in (tuple(r) for r in tables):
        _, columns = await client.execute_query(f'PRAGMA table_info("{table}")')
        for column in (dict(c) for c in columns):
            if str(column["type"]).upper() not in ("TIMESTAMP", "DATETIME"):
                continue
            name = column["name"]
            _, rows = await client.execute_query(
                f'SELECT rowid, "{name}" FROM "{table}"'
                f" WHERE \"{name}\" IS NOT NULL AND \"{name}\" NOT LIKE '%+00:00'"
            )
            for rowid, text in (tuple(r) for r in rows):
                fixed = utc_text(str(text))
                if fixed is not None:
                    await client.execute_query(
                        f'UPDATE "{table}" SET "{name}" = ? WHERE rowid = ?', [fixed, rowid]
                    )


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(rewrite, ops.RunPython.noop)]
