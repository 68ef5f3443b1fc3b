"""Stored files of a project the caller may download (photos only with VIEW_PII)."""

from __future__ import annotations

from models.contracts import LabourContract
from models.files import StoredFile
from models.supplement import SupplementRequest
from realname import error_codes as E
from realname.errors import Forbidden, NotFound
from services.identity import ProjectAccess
from services.labour.scope import show_pii

# --- file downloads ------------------------------------------------------------------------------

SENSITIVE_FILE_PURPOSES = {"face", "faces", "id_photo"}  # biometric / ID images (PIPL)


async def file_for_download(access: ProjectAccess, file_id: int) -> StoredFile:
    """A stored file of this project the caller may read (else NotFound / Forbidden).

    Files belong to records: a contract attachment or a supplement's evidence is readable by
    those who can see the member (the row scope); face and ID photos only with VIEW_PII; other
    project files with VIEW on the project.
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
            member = contract.member
            access.check_visible(member.unit_id, "文件", E.FILE_NOT_FOUND.code)
    if stored.purpose == "evidence" and not access.sees_every_unit:
        requests = SupplementRequest.filter(project_id=access.project.id)
        for unit_id, evidence in await requests.values_list("member__unit_id", "evidence"):
            if stored.id in (evidence or []):
                access.check_visible(unit_id, "文件", E.FILE_NOT_FOUND.code)
    return stored
