"""Uploads: size and type limits, content type sniffed from the bytes (never trusted), recorded
with their owning project so downloads can be authorised."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from models.files import StoredFile
from realname import error_codes as E
from realname.errors import TooLarge, ValidationError
from realname.storage import FileStore, sha256_hex

if TYPE_CHECKING:
    from services.identity import ProjectAccess

PDF, JPEG, PNG, OFFICE = "pdf", "jpeg", "png", "office"
DOCUMENTS = frozenset({PDF, JPEG, PNG, OFFICE})

_TYPES = {
    PDF: ("application/pdf", ".pdf"),
    JPEG: ("image/jpeg", ".jpg"),
    PNG: ("image/png", ".png"),
}
_OFFICE_EXT = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
}
TYPE_LABELS = {PDF: "PDF", JPEG: "JPG", PNG: "PNG", OFFICE: "Office 文档"}


def sniff(data: bytes, filename: str = "") -> tuple[str, str, str] | None:
    """(kind, content type, extension) from the file's leading bytes, or None when unknown."""
    if data.startswith(b"%PDF-"):
        return (PDF, *_TYPES[PDF])
    if data.startswith(b"\xff\xd8\xff"):
        return (JPEG, *_TYPES[JPEG])
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return (PNG, *_TYPES[PNG])
    ext = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    if data.startswith(b"PK\x03\x04") and ext in (".docx", ".xlsx", ".pptx"):
        return (OFFICE, _OFFICE_EXT[ext], ext)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") and ext in (".doc", ".xls"):
        return (OFFICE, _OFFICE_EXT[ext], ext)
    return None


def check_upload(
    data: bytes, filename: str, allowed: frozenset[str], max_bytes: int, field: str = "file"
) -> tuple[str, str]:
    """Validate an upload; return (content type, extension) or raise naming `field`."""
    if not data:
        raise ValidationError(code=E.EMPTY_FILE.code, field=field)
    if len(data) > max_bytes:
        raise TooLarge(f"文件超过 {max_bytes // (1024 * 1024)}MB 限制", field=field)
    found = sniff(data, filename)
    if found is None or found[0] not in allowed:
        labels = "、".join(TYPE_LABELS[k] for k in sorted(allowed))
        raise ValidationError(
            f"文件类型不支持，仅支持 {labels}", code=E.INVALID_FILE_TYPE.code, field=field
        )
    return found[1], found[2]


async def save_project_upload(
    access: ProjectAccess,
    store: FileStore,
    data: bytes,
    filename: str,
    *,
    purpose: str,
    allowed: frozenset[str] = DOCUMENTS,
    max_bytes: int = 10 * 1024 * 1024,
    field: str = "file",
) -> StoredFile:
    """The caller's upload to its project: checked, stored and recorded with the project and
    who uploaded it (downloads are authorised by that project)."""
    return await save_upload(
        store,
        data,
        filename,
        project_id=access.project.id,
        purpose=purpose,
        allowed=allowed,
        max_bytes=max_bytes,
        uploaded_by=access.principal.actor,
        field=field,
    )


async def save_upload(
    store: FileStore,
    data: bytes,
    filename: str,
    *,
    project_id: int | None,
    purpose: str,
    allowed: frozenset[str] = DOCUMENTS,
    max_bytes: int = 10 * 1024 * 1024,
    uploaded_by: str = "",
    field: str = "file",
) -> StoredFile:
    """Check, store and record an uploaded file."""
    content_type, ext = check_upload(data, filename, allowed, max_bytes, field)
    key = await store.put(data, prefix=purpose, suffix=ext, content_type=content_type)
    return await StoredFile.create(
        key=key,
        name=(filename or f"{purpose}{ext}")[:255],
        content_type=content_type,
        size=len(data),
        sha256=sha256_hex(data),
        project_id=project_id,
        purpose=purpose,
        uploaded_by=uploaded_by,
    )


def decode_base64(value: Any, field: str) -> bytes:
    """Bytes from a base64 field (devices send photos this way), or a ValidationError."""
    if not isinstance(value, str) or not value:
        raise ValidationError("缺少图片数据", code=E.REQUIRED.code, field=field)
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(
            "图片数据不是有效的 base64", code=E.BAD_FIELD.code, field=field
        ) from exc


def file_public(f: StoredFile | None, url_prefix: str = "") -> dict[str, Any] | None:
    """The reply shape of an attachment."""
    if f is None:
        return None
    return {
        "id": f.id,
        "name": f.name,
        "size": f.size,
        "content_type": f.content_type,
        "url": f"{url_prefix}/files/{f.id}" if url_prefix else None,
    }
