"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from models import AuditLog
from services.identity import Principal


async def record(
    action: str,
    *,
    principal: Principal | None = None,
    actor_kind: str = "",
    actor_id: str = "",
    project_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    ip: str = "",
    using_db: Any = None,
) -> AuditLog:
    """Append one audit entry; `detail` must hold no plaintext personal data.

    ``using_db``: the transaction the audited change is made in, so both land or neither.
    """
    if principal is not None:
        actor_kind, actor_id = principal.kind, str(principal.account_id)
    return await AuditLog.create(
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        project_id=project_id,
        target=target[:128],
        detail=detail or {},
        ip=ip[:64],
        using_db=using_db,
    )
