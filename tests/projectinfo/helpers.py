"""Small helpers for the project-info tests."""

from __future__ import annotations

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00not a document"


def pdf(name: str = "合同.pdf") -> tuple[str, bytes, str]:
    """A multipart file tuple holding a tiny PDF."""
    return (name, PDF, "application/pdf")
