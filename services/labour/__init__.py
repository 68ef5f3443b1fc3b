"""Labour management (劳务工管理): teams (班组), labour members, wage cards and exits.

Rules enforced here: rule 5 (a labour member is added only with work type and a complete wage card;
migrated members are completed through `update_member`), rule 6 (only persons enrolled by a
collection machine can be added), and unit scoping: a subcontractor sees and manages only its own
units' teams and people, the general contractor manages the whole site, the builder and the
supervisor see the whole site but manage only their own units.

One module per sub-area; this package re-exports the names used elsewhere:

- ``scope``: whether replies carry full personal data (the unit scope itself is
  ``ProjectAccess``'s row scope, ``services/scope.py``)
- ``wagecard``: work types and the wage card (rule 5 validation)
- ``shaping``: persons, members and units as replies show them
- ``persons``: finding enrolled persons by ID number (rule 6)
- ``teams``: teams and the units teams may be put under
- ``members``: adding, changing and exiting members
- ``files``: which stored files the caller may download
"""

from services.labour.files import file_for_download
from services.labour.members import (
    add_team_member,
    exit_member,
    get_member,
    list_team_members,
    load_member,
    save_labour_member,
    update_member,
)
from services.labour.persons import ENROL_FIRST, find_enrolled_person, search_person
from services.labour.scope import show_pii
from services.labour.shaping import (
    MEMBER_RELATIONS,
    member_page,
    member_public,
    person_fields,
    post_label,
    wage_card_incomplete,
)
from services.labour.teams import (
    active_counts,
    construction_units,
    create_team,
    delete_team,
    get_team,
    list_teams,
    team_public,
    update_team,
)
from services.labour.wagecard import (
    WORK_TYPES,
    WageCard,
    validate_bank_name,
    validate_branch_code,
    validate_work_type,
)

__all__ = [
    "ENROL_FIRST",
    "MEMBER_RELATIONS",
    "WORK_TYPES",
    "WageCard",
    "active_counts",
    "add_team_member",
    "construction_units",
    "create_team",
    "delete_team",
    "exit_member",
    "file_for_download",
    "find_enrolled_person",
    "get_member",
    "get_team",
    "list_team_members",
    "list_teams",
    "load_member",
    "member_page",
    "member_public",
    "person_fields",
    "post_label",
    "save_labour_member",
    "search_person",
    "show_pii",
    "team_public",
    "update_member",
    "update_team",
    "validate_bank_name",
    "validate_branch_code",
    "validate_work_type",
    "wage_card_incomplete",
]
