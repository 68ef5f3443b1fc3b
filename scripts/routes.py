"""Regenerate docs/api.md from the platform's OpenAPI document and the error registry.

``.venv/bin/python -m scripts.routes`` writes it; ``--check`` exits 1 when the committed file
differs (``tests/foundation/test_api_docs.py`` runs that, so a stale docs/api.md fails the suite).
The operations, their Chinese summaries and who may call them come from the same document
`/docs` serves (``scripts.openapi.document()``); the error codes from ``realname.error_codes``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = ROOT / "docs" / "api.md"

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
METHODS = ("get", "post", "put", "patch", "delete")
HEADER = """# API overview

Every surface speaks JSON (ADMS: plain text). Errors are `{"code", "message", "field"?, "detail"?}`
with a stable `code` and a Chinese `message`; list replies are `{"data": [...], "total": n}` with
`page` / `page_size` query arguments. The admin and mini-program surfaces take a bearer token
(`Authorization: Bearer ...`, or the `token` cookie set by the web sign-in); devices sign every
request (see [device-protocol.md](device-protocol.md)); ADMS terminals are named by their `SN`.
Interactive documentation (OpenAPI, Swagger UI) is served at `/docs` by the running server, with
every operation's parameters, bodies, replies and errors.

Area guides: [signin.md](signin.md), [attendance.md](attendance.md), [labour.md](labour.md),
[project-info.md](project-info.md), [device-protocol.md](device-protocol.md),
[audit.md](audit.md), [operations.md](operations.md), [contract.md](contract.md).

Times in replies are the project's local time, ISO 8601 with the offset and whole seconds
(`2026-11-01T07:34:00+08:00`); dates are `YYYY-MM-DD` (see [audit.md](audit.md)).

This file is generated from the OpenAPI document and the error registry:
`.venv/bin/python -m scripts.routes` regenerates it (a test fails when it is stale).
"""


def who(operation: dict[str, Any]) -> str:
    """Who may call the operation, from its security requirement."""
    security = operation.get("security")
    if security is None:
        return "anyone"
    names = {name for requirement in security for name in requirement}
    if not names:
        return "public"
    if "bearer" in names:
        return "token"
    if "admsSerial" in names:
        return "ADMS `SN`"
    return "device signature"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(METHOD, path, what, who) of every operation, sorted by path then method."""
    rows = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            summary = op.get("summary") or ""
            first = (op.get("description") or "").strip().split("\n\n", 1)[0]
            what = f"{summary} — {first}" if summary and first and first != summary else summary
            rows.append((method.upper(), path, _cell(what or first), who(op)))
    return sorted(rows, key=lambda r: (r[1], METHODS.index(r[0].lower())))


def error_table() -> list[str]:
    """The error codes of ``realname.error_codes``: code, HTTP status, default message."""
    from realname.error_codes import REGISTRY

    out = [
        "## Error codes",
        "",
        "Every error reply is `{code, message, field?, detail?}`; the codes are defined once",
        "in `realname/error_codes.py` with their HTTP status and default Chinese message (a",
        "raise site may give a more specific message). Each operation lists its own in the",
        "OpenAPI document.",
        "",
        "| code | status | message |",
        "|---|---|---|",
    ]
    for code in sorted(REGISTRY):
        entry = REGISTRY[code]
        status = "/".join(str(s) for s in (entry.status, *entry.also))
        out.append(f"| `{code}` | {status} | {_cell(entry.message)} |")
    out.append("")
    return out


def render(spec: dict[str, Any]) -> str:
    """The whole of docs/api.md."""
    rows = operations(spec)
    used: set[tuple[str, str]] = set()
    out = [HEADER]
    for title, prefix in SECTIONS:
        selected = [r for r in rows if r[1].startswith(prefix) and (r[0], r[1]) not in used]
        if not selected:
            continue
        out += [f"## {title}", "", "| method | path | what | who |", "|---|---|---|---|"]
        for method, path, what, caller in selected:
            used.add((method, path))
            out.append(f"| {method} | `{path}` | {what} | {caller} |")
        out.append("")
    left = [r for r in rows if (r[0], r[1]) not in used]
    if left:
        raise SystemExit(f"no section of docs/api.md for {left}")
    out += error_table()
    return "\n".join(out)


def main() -> None:
    """Write docs/api.md, or with ``--check`` exit 1 when it is stale."""
    from scripts.openapi import document

    text = render(document())
    if "--check" in sys.argv[1:]:
        if TARGET.read_text(encoding="utf-8") != text:
            sys.stderr.write("docs/api.md is stale: run .venv/bin/python -m scripts.routes\n")
            raise SystemExit(1)
        return
    TARGET.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
