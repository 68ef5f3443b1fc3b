"""Small helpers for the project-info tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00not a document"


def pdf(name: str = "合同.pdf") -> tuple[str, bytes, str]:
    """A multipart file tuple holding a tiny PDF."""
    return (name, PDF, "application/pdf")


def voucher(
    kind: str, unit_id: int, file_id: int, day: dt.date, amount: str = "1", **fields: Any
) -> dict[str, Any]:
    """One line of a month's materials (a contract, receipt or payment) with its attachment."""
    return {
        "kind": kind,
        "unit_id": unit_id,
        "amount": amount,
        "date": day.isoformat(),
        "file_id": file_id,
        **fields,
    }
