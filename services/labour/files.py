"""Stored files of a project the caller may download (photos only with VIEW_PII)."""

from __future__ import annotations

from models.contracts import LabourContract
from models.files import StoredFile
from realname import error_codes as E
from realname.errors import Forbidden, NotFound
from services.identity import ProjectAccess
from services.labour.scope import show_pii

# --- file downloads ------------------------------------------------------------------------------

SENSITIVE_FILE_PURPOSES = {"face", "faces", "id_photo"}  # biometric / ID images (PIPL)


async def file_for_download(access: ProjectAccess, file_id: int) -> StoredFile:
    """A stored file of this project the caller may read (else NotFound / Forbidden).

    Files belong to records: a contract attachment is readable by those who can see the member;
    face and ID photos only with VIEW_PII; other project files with VIEW on the project.
    """
    stored = await StoredFile.get_or_none(id=file_id, project_id=access.project.id)
    if stored is None:
        raise NotFound(code=E.FILE_NOT_FOUND.code)
    if stored.purpose in SENSITIVE_FILE_PURPOSES and not show_pii(access):
        raise Forbidden(code=E.FILE_FORBIDDEN.code)
    if stored.purpose == "contract":
        contract = (
            await LabourContract.filter(attachment_id=stored.id).prefetch_related("member").first()
        )
        if contract is not None:
            access.check_visible(contract.member.unit_id, "文件")  # type: ignore[attr-defined]
    return stored
