"""Regenerate docs/api.md from the app's router: ``.venv/bin/python scripts/routes.py``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECTIONS = [
    ("Health", "/healthz"),
    ("Admin: sign-in", "/admin/v1/auth"),
    ("Admin: public project query (no sign-in)", "/admin/v1/public"),
    ("Admin: projects and project screens", "/admin/v1/projects"),
    ("Admin: regulators (reviews, announcements)", "/admin/v1/reviews"),
    ("Admin: other", "/admin/v1"),
    ("Mini-program", "/miniapp/v1"),
    ("Devices: native protocol", "/device/v1"),
    ("Devices: ZKTeco ADMS adapter", "/iclock"),
]
HEADER = """# API overview

Every surface speaks JSON (ADMS: plain text). Errors are `{"code", "message", "field"?, "detail"?}`
with a stable `code` and a Chinese `message`; list replies are `{"data": [...], "total": n}` with
`page` / `page_size` query arguments. The admin and mini-program surfaces take a bearer token
(`Authorization: Bearer ...`, or the `token` cookie set by the web sign-in); devices sign every
request (see [device-protocol.md](device-protocol.md)). Interactive documentation (OpenAPI,
Swagger UI) is served at `/docs` by the running server.

Area guides: [signin.md](signin.md), [attendance.md](attendance.md), [labour.md](labour.md),
[project-info.md](project-info.md), [device-protocol.md](device-protocol.md),
[audit.md](audit.md), [operations.md](operations.md).

Times in replies are the project's local time, ISO 8601 with the offset and whole seconds
(`2026-11-01T07:34:00+08:00`); dates are `YYYY-MM-DD` (see [audit.md](audit.md)).

This table is generated from the router: `.venv/bin/python scripts/routes.py` regenerates it.
"""


def routes() -> list[tuple[str, str, str]]:
    """(methods, path, first docstring line) of every public route."""
    from config.settings import Settings
    from realname.app import create_app

    app = create_app(Settings(env="test", dev_standins=False), name="routes_dump", manage_db=False)
    rows = []
    for route in app.router.routes:
        path = "/" + route.path
        if path.startswith("/docs"):
            continue
        methods = ",".join(sorted(m for m in route.methods if m not in ("HEAD", "OPTIONS")))
        doc = (getattr(route.handler, "__doc__", None) or "").strip().splitlines()
        text = doc[0] if doc else ""
        if text.startswith("partial("):
            text = "WebSocket: pushes each status change of the ticket"
        rows.append((methods, path, text.replace("|", "\\|")))
    return sorted(rows, key=lambda r: (r[1], r[0]))


def main() -> None:
    """Write docs/api.md."""
    rows = routes()
    used: set[tuple[str, str]] = set()
    out = [HEADER]
    for title, prefix in SECTIONS:
        sel = [r for r in rows if r[1].startswith(prefix) and (r[0], r[1]) not in used]
        if not sel:
            continue
        out += [f"## {title}", "", "| method | path | what |", "|---|---|---|"]
        for methods, path, text in sel:
            used.add((methods, path))
            out.append(f"| {methods} | `{path}` | {text} |")
        out.append("")
    out += error_table()
    (ROOT / "docs" / "api.md").write_text("\n".join(out), encoding="utf-8")


def error_table() -> list[str]:
    """The error codes of ``realname.error_codes``: code, HTTP status, default message."""
    from realname.error_codes import REGISTRY

    out = [
        "## Error codes",
        "",
        "Every error reply is `{code, message, field?, detail?}`; the codes are defined once",
        "in `realname/error_codes.py` with their HTTP status and default Chinese message (a",
        "raise site may give a more specific message). Declared routes list theirs in the",
        "OpenAPI document.",
        "",
        "| code | status | message |",
        "|---|---|---|",
    ]
    for code in sorted(REGISTRY):
        entry = REGISTRY[code]
        status = "/".join(str(s) for s in (entry.status, *entry.also))
        message = entry.message.replace("|", "\\|")
        out.append(f"| `{code}` | {status} | {message} |")
    out.append("")
    return out


if __name__ == "__main__":
    main()
