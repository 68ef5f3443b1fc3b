"""Which units teams may belong to, and whether replies carry full personal data.

Which rows the caller sees and changes (a subcontractor its own units' teams and people, the
general contractor manages the whole site, the builder and the supervisor see the whole site but
manage only their own units) is the row scope of `ProjectAccess` (services/scope.py).
"""

from __future__ import annotations

from models import UnitRole
from services.identity import VIEW_PII, ProjectAccess

CONSTRUCTION_ROLES = {UnitRole.GENERAL_CONTRACTOR, UnitRole.SPECIALTY_SUB, UnitRole.LABOUR_SUB}


def show_pii(access: ProjectAccess) -> bool:
    """Whether replies may carry full ID numbers, phones and bank cards."""
    return access.can(VIEW_PII)
