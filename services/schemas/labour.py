"""Teams and members (班组管理, 劳务人员): request and reply models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from realname.contract import INT_MAX, Body, PageQuery

# A date of a request: between 2000 and 2099 (the columns' sane range; years 0001 / 9999 are 422s)
Day = Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 31))]
# an optional one: "" (an empty form field) means "not given"
# (the bounds sit on the date itself: on the optional they would be checked against None → 500)
Date = Annotated[
    Day | None,
    BeforeValidator(lambda v: None if isinstance(v, str) and not v.strip() else v),
]
OnSite = bool | Literal["在场", "退场", "on_site", "off_site"]


class TeamQuery(PageQuery):
    """班组列表 filters."""

    name: str = Field("", max_length=64, title="班组名称")
    on_site: bool | None = Field(None, title="班组状态（在场 true / 退场 false）")


class TeamCreate(Body):
    """新增班组."""

    name: str = Field(min_length=1, max_length=64, title="班组名称")
    leader: str = Field("", max_length=64, title="班组长")
    unit_id: int = Field(ge=1, le=INT_MAX, title="所属单位")
    on_site: OnSite = Field(True, title="班组状态")


class TeamUpdate(Body):
    """编辑班组: only the fields sent change."""

    name: str | None = Field(None, min_length=1, max_length=64, title="班组名称")
    leader: str | None = Field(None, max_length=64, title="班组长")
    unit_id: int | None = Field(None, ge=1, le=INT_MAX, title="所属单位")
    on_site: OnSite | None = Field(None, title="班组状态")


class TeamPublic(BaseModel):
    """A team row: 序号, 班组名称, 班组状态, 班组长, 所属单位."""

    seq: int | None
    id: int
    name: str
    on_site: bool
    status_label: str
    leader: str
    unit_id: int
    unit_name: str
    active_members: int


class UnitBrief(BaseModel):
    """A participating unit in a picker."""

    id: int
    name: str
    role: str
    role_label: str
    on_site: bool


class TeamMembersQuery(PageQuery):
    """班组人员 filters."""

    work_status: Literal["", "active", "left"] = Field("", title="在职状态")


class MemberAdd(Body):
    """添加人员 to a team: the enrolled person's ID number, work type and wage card."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: str = Field(min_length=1, max_length=18, title="身份证号")
    work_type: str = Field("", max_length=32, title="工种")
    bank_name: str = Field("", max_length=64, title="工资卡开户行")
    bank_card: str = Field("", max_length=32, title="工资卡号")
    bank_branch_code: str = Field("", max_length=12, title="联行号")
    entry_date: Date = Field(None, title="进场日期")


class MemberUpdate(Body):
    """编辑 / 完善 a member: only the fields sent change."""

    work_type: str | None = Field(None, max_length=32, title="工种")
    bank_name: str | None = Field(None, max_length=64, title="工资卡开户行")
    bank_card: str | None = Field(None, max_length=32, title="工资卡号")
    bank_branch_code: str | None = Field(None, max_length=12, title="联行号")
    team_id: int | None = Field(None, ge=1, le=INT_MAX, title="班组")
    entry_date: Date = Field(None, title="进场日期")


class MemberExit(Body):
    """离职: the exit date (default today)."""

    exit_date: Date = Field(None, title="离职日期")


class PersonSearch(Body):
    """Search an enrolled person by exact ID number."""

    id_number: str = Field(min_length=1, max_length=32, title="身份证号")


class Membership(BaseModel):
    member_id: int
    person_type: str
    work_status: str
    work_status_label: str


class PersonFields(BaseModel):
    """A person as replies show them (ID number and phone masked unless the caller may see them)."""

    person_id: int
    name: str
    gender: str | None = None
    id_number: str
    phone: str
    has_face: bool
    enrolled: bool


class PersonFound(PersonFields):
    """An enrolled person: full ID number and phone only once on the caller's project."""

    membership: Membership | None


class ContractHead(BaseModel):
    """What every contract row starts with: the contract, its member and the member's name, ID
    number and phone (masked unless the caller may see them)."""

    id: int
    member_id: int
    number: str
    name: str
    id_number: str
    phone: str


class ContractState(BaseModel):
    """A membership's contract state and warning (rule 4), as member rows carry it."""

    contract_status: str | None = None
    contract_status_label: str | None = None
    contract_warning: str | None = None
    contract_warning_label: str | None = None
    days_since_entry: int | None = None


class MemberPublic(PersonFields, ContractState):
    """The one reply shape of a project member (person, team, unit, wage card, contract state)."""

    model_config = ConfigDict(extra="allow")

    id: int
    seq: int | None = None
    person_type: str
    person_type_label: str
    unit_id: int
    unit_name: str
    team_id: int | None
    team_name: str
    work_type: str | None
    post: str | None
    post_label: str | None
    work_status: str
    work_status_label: str
    entry_date: dt.date | None
    exit_date: dt.date | None
    bank_name: str | None
    bank_card: str | None
    bank_branch_code: str | None
    migrated: bool
    incomplete_fields: list[str]


class ImportRowError(BaseModel):
    """One refused cell of the team import: 行号, the field and its column, the reason."""

    row: int
    field: str
    column: str
    message: str


class TeamImportResult(BaseModel):
    """班组导入: rows read, imported and refused (every error of the refused rows)."""

    total: int
    imported: int
    failed: int
    member_ids: list[int]
    errors: list[ImportRowError]
