"""Project access and its row scope: which of a project's rows a caller may see and change.

`ProjectAccess` is the caller's standing on one project (what `identity.project_access` hands every
project handler). Besides the capabilities it carries the one row scope every list, statistic and
export goes through: members and their search, teams, punches and their photos, the attendance
statistics (`services.member_filter`) and the workbench figures, the roster, contracts and their
attachments, supplements and their evidence, binding requests, post personnel, the audit log:

- the general contractor (the company, its post personnel, the permit's project manager), the
  builder and the supervisor (the company, its post personnel, the permit's chief supervisor) see
  every unit's rows;
- a specialty or labour subcontractor's staff (the company and its post personnel) see only their
  own unit's rows; another unit's record is "not found", never "forbidden", so ids cannot be probed;
- the platform operator and the regulator of the project's region see every row, the regulator
  read-only (it holds no ``manage`` capability);
- changing rows needs ``manage``: the general contractor manages every unit, everyone else only
  their own units.

The scope is applied in the ORM (`ProjectAccess.rows`, a queryset filter) and in raw SQL
(`ProjectAccess.unit_condition`, rendered by `Cond.sql` as a WHERE fragment with ``{}``
placeholders and its parameters), both built from the same `Cond`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import ParticipatingUnit, Post, UnitRole
from realname import error_codes as E
from realname.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from models import Project
    from services.identity import Principal

VIEW = "view"  # see the project's screens
MANAGE = "manage"  # change project data (teams, members, devices, materials...)
VIEW_PII = "view_pii"  # see full ID numbers, phones, bank cards
REVIEW = "review"  # regulator review of status changes

# Units whose staff see every unit's rows; every other unit's staff see their own unit's.
SITE_WIDE_ROLES = frozenset(
    {UnitRole.GENERAL_CONTRACTOR.value, UnitRole.BUILDER.value, UnitRole.SUPERVISOR.value}
)
# Units whose staff manage every unit's rows.
SITE_MANAGER_ROLES = frozenset({UnitRole.GENERAL_CONTRACTOR.value})
# The unit role a permit-named key post stands for (项目经理: the GC; 总监: the supervisor).
KEY_POST_ROLES = {
    Post.PROJECT_MANAGER.value: UnitRole.GENERAL_CONTRACTOR.value,
    Post.CHIEF_SUPERVISOR.value: UnitRole.SUPERVISOR.value,
}

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Cond:
    """One row condition, rendered for the ORM (`q`) and for raw SQL (`sql`) from one definition.

    ``orm`` is a Tortoise lookup from the queried model, ``column`` the same column in the SQL
    statement; ``op`` is ``=``, ``in`` (a collection; empty matches nothing) or ``contains``
    (case-insensitive substring).
    """

    orm: str
    column: str
    value: Any
    op: str = "="

    def q(self) -> Q:
        """The condition as a Tortoise ``Q``."""
        lookup = {"in": f"{self.orm}__in", "contains": f"{self.orm}__icontains"}
        value: Any = sorted(self.value) if self.op == "in" else self.value
        return Q(**{lookup.get(self.op, self.orm): value})

    def sql(self) -> tuple[str, list[Any]]:
        """The condition as SQL with ``{}`` placeholders, and its parameters."""
        if self.op == "in":
            values = sorted(self.value)
            if not values:
                return "1 = 0", []
            return f"{self.column} IN ({','.join(['{}'] * len(values))})", values
        if self.op == "contains":
            text = str(self.value).lower()
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return f"lower({self.column}) LIKE {{}} ESCAPE '\\'", [f"%{escaped}%"]
        return f"{self.column} = {{}}", [self.value]


def to_q(conds: Iterable[Cond]) -> Q:
    """Every condition, ANDed, as one ``Q`` (an empty ``Q`` for none)."""
    parts = [c.q() for c in conds]
    return Q(*parts) if parts else Q()


def to_sql(conds: Iterable[Cond]) -> tuple[list[str], list[Any]]:
    """Every condition as SQL fragments (to AND) and their parameters, in order."""
    parts: list[str] = []
    params: list[Any] = []
    for c in conds:
        sql, values = c.sql()
        parts.append(sql)
        params += values
    return parts, params


@dataclass(frozen=True)
class RowScope:
    """The units whose rows a caller sees and manages (None: every unit of the project)."""

    visible: frozenset[int] | None = frozenset()
    managed: frozenset[int] | None = frozenset()
    can_manage: bool = False

    @classmethod
    def everything(cls, can_manage: bool) -> RowScope:
        return cls(None, None, can_manage)

    @classmethod
    def of_units(
        cls, roles: set[str], own: set[int], site_units: set[int], can_manage: bool
    ) -> RowScope:
        """The scope of a caller standing for units `own` with responsibility `roles`
        (`site_units`: the project's units of the roles held through the permit)."""
        own = own | site_units
        visible = None if roles & SITE_WIDE_ROLES else frozenset(own)
        managed = None if roles & SITE_MANAGER_ROLES else frozenset(own)
        return cls(visible, managed, can_manage)


@dataclass
class ProjectAccess:
    """The caller's standing on one project: capabilities and the row scope."""

    project: Project
    principal: Principal
    caps: set[str] = field(default_factory=set)
    unit_ids: set[int] = field(default_factory=set)  # the caller's participating units
    unit_roles: set[str] = field(default_factory=set)
    posts: set[str] = field(default_factory=set)  # post codes (post personnel)
    member_ids: set[int] = field(default_factory=set)  # the caller's own memberships
    scope: RowScope = field(default_factory=RowScope)  # nothing until computed

    def can(self, cap: str) -> bool:
        return cap in self.caps

    def require(self, cap: str) -> ProjectAccess:
        """Raise Forbidden unless the caller holds `cap`."""
        if cap not in self.caps:
            raise Forbidden(code=E.PROJECT_FORBIDDEN.code)
        return self

    # --- rows ------------------------------------------------------------------------------------

    @property
    def sees_every_unit(self) -> bool:
        """Whether the caller sees every unit's rows (else only those of `scope.visible`)."""
        return self.scope.visible is None

    def sees(self, unit_id: int | None) -> bool:
        """Whether rows of this unit are visible to the caller."""
        return self.scope.visible is None or unit_id in self.scope.visible

    def manages(self, unit_id: int | None) -> bool:
        """Whether the caller may change rows of this unit."""
        s = self.scope
        return s.can_manage and (s.managed is None or unit_id in s.managed)

    def check_visible(
        self, unit_id: int | None, what: str = "记录", code: str = "not_found"
    ) -> None:
        """Raise NotFound for a row of a unit the caller cannot see (no probing by id)."""
        if not self.sees(unit_id):
            raise NotFound(f"{what}不存在", code=code)

    def check_manages(self, unit_id: int | None) -> None:
        """Raise Forbidden unless the caller may change rows of this unit."""
        if not self.manages(unit_id):
            raise Forbidden("您只能管理本单位的班组和人员", code=E.UNIT_FORBIDDEN.code)

    def unit_condition(self, orm: str = "unit_id", column: str = "m.unit_id") -> Cond | None:
        """The scope as a condition on a unit column (None: every unit, no condition)."""
        if self.scope.visible is None:
            return None
        return Cond(orm, column, self.scope.visible, "in")

    def rows(self, qs: QuerySet[M], unit_field: str = "unit_id") -> QuerySet[M]:
        """`qs` narrowed to the rows the caller sees; `unit_field` leads to the row's unit
        (``unit_id`` for members and teams, ``member__unit_id`` for contracts, punches...)."""
        cond = self.unit_condition(unit_field)
        return qs if cond is None else qs.filter(cond.q())


async def row_scope(access: ProjectAccess, roles: set[str], key_roles: set[str]) -> RowScope:
    """The row scope of a caller on a project (see the module docstring).

    `roles`: the responsibility roles of the caller's units; `key_roles`: the roles the caller
    holds through posts named on the construction permit (their units are the project's units of
    those roles).
    """
    can_manage = access.can(MANAGE)
    if access.principal.kind in ("operator", "regulator"):
        return RowScope.everything(can_manage)
    site_units: set[int] = set()
    if key_roles:
        site_units = set(
            await ParticipatingUnit.filter(
                project_id=access.project.id, role__in=sorted(key_roles)
            ).values_list("id", flat=True)  # type: ignore[arg-type]
        )
    return RowScope.of_units(roles | key_roles, set(access.unit_ids), site_units, can_manage)
