"""The mini-program (/miniapp/v1): request and reply models of its screens.

Sign-in, real-name binding, QR confirmation, my projects, my attendance and contracts, the approval
queue of post personnel, announcements. Request fields are bounded here; the services keep the
checks that must answer a specific code (a missing ``code`` or ``name``, an ID number's checksum).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from realname.contract import Body, PageQuery, Query
from services.schemas.labour import ContractHead, ContractState

# --- sign-in ---


class MiniappLogin(Body):
    """wx.login 登录."""

    code: str | None = Field(None, max_length=128, title="微信登录凭证 code")


class AccountBrief(BaseModel):
    kind: Literal["enterprise", "person", "regulator", "operator"]
    display_name: str


class Label(BaseModel):
    """A coded value with its Chinese label (a post, a permit post)."""

    code: str
    label: str


class PostProject(BaseModel):
    """A project where the caller holds a post (岗位人员)."""

    code: str
    name: str
    posts: list[Label]


class BoundPerson(BaseModel):
    name: str
    id_number_masked: str
    phone_masked: str


class BindingRequestView(BaseModel):
    """A binding request as its applicant sees it."""

    id: int
    status: Literal["pending", "approved", "rejected", "cancelled"]
    status_label: str
    reason: str | None
    decision_note: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class BindingState(BaseModel):
    """The caller's binding: the bound person (masked) or the latest binding request."""

    bound: bool
    method: str | None = None
    bound_at: dt.datetime | None = None
    person: BoundPerson | None = None
    request: BindingRequestView | None = None


class MiniappLoginReply(BaseModel):
    """A token, whether real-name binding is done, and the projects of the caller's posts."""

    token: str
    token_type: Literal["Bearer"]
    expires_in: int
    account: AccountBrief
    binding: BindingState
    post_projects: list[PostProject]


class MeReply(BaseModel):
    display_name: str
    binding: BindingState
    post_projects: list[PostProject]


class Message(BaseModel):
    message: str


# --- binding ---


class BindingCreate(Body):
    """实名绑定: name, ID number and the getPhoneNumber code (the service names a missing one)."""

    name: str | None = Field(None, max_length=64, title="姓名")
    id_number: str | None = Field(None, max_length=32, title="身份证号")
    phone_code: str | None = Field(None, max_length=256, title="手机号授权（phone_code）")


class BindingResult(BindingState):
    """Bound at once (201, a fresh token) or waiting for the labour officer (202)."""

    status: Literal["bound", "pending"]
    token: str | None = None
    message: str


class UnbindResult(BaseModel):
    bound: Literal[False]
    token: str
    message: str


# --- QR sign-in of the web console ---


class Requester(BaseModel):
    """Who asked for the QR code: browser IP, region, user agent, time."""

    ip: str
    region: str
    region_code: str | None
    user_agent: str
    browser: str
    requested_at: str
    requested_at_text: str
    same_network: bool


class QrScanned(BaseModel):
    ticket: str
    status: Literal["scanned"]
    can_confirm: bool
    projects: list[PostProject]
    requester: Requester
    notice: str
    reason: str | None = None
    message: str | None = None


class QrConfirmed(BaseModel):
    ticket: str
    status: Literal["confirmed"]
    message: str
    requester: Requester


class QrCancelled(BaseModel):
    ticket: str
    status: Literal["cancelled"]
    message: str


# --- my projects, my attendance, my contracts ---


class MyProject(ContractState):
    """A project of the caller: membership (if any) and permit posts (持证岗位)."""

    project_code: str
    project_name: str
    project_status: str
    member_id: int | None
    permit_posts: list[Label]
    person_type: str | None = None
    person_type_label: str | None = None
    work_type: str | None = None
    post: str | None = None
    post_label: str | None = None
    team: str | None = None
    unit: str | None = None
    unit_role_label: str | None = None
    work_status: str | None = None
    work_status_label: str | None = None
    entry_date: dt.date | None = None
    exit_date: dt.date | None = None


class CountBy(BaseModel):
    person_type: str
    label: str
    count: int


class MembersActive(BaseModel):
    labour: int
    management: int


class WarningCounts(BaseModel):
    counts: dict[str, int]
    labels: dict[str, str]


class ProjectSummary(BaseModel):
    """岗位人员的项目概况: today on site, active members, contract warnings."""

    project_code: str
    project_name: str
    status: str
    date: dt.date
    my_posts: list[Label]
    members_active: MembersActive
    on_site_today: int
    on_site_by_person_type: list[CountBy]
    attendance_rate: float
    contract_warnings: WarningCounts


class MonthQuery(Query):
    """我的考勤 month (default: this month)."""

    month: str = Field("", max_length=7, title="月份")


class PunchView(BaseModel):
    id: int
    time: dt.datetime
    direction: str
    direction_label: str
    status: str
    accepted: bool
    reason: str | None
    reason_label: str | None
    source: str
    source_label: str
    device_sn: str | None
    liveness: bool
    received_at: dt.datetime | None
    photo_url: str | None


class DayCell(BaseModel):
    day: int
    date: dt.date
    state: str
    state_label: str
    hours: float | None = None
    punches: list[PunchView]
    future: bool


class MyMonth(BaseModel):
    """A month of the caller's own attendance."""

    member_id: int
    project_code: str
    project_name: str
    year: int
    month: int
    days: list[DayCell]
    attendance_days: int
    effective_days: int
    effective_hours: float


class FileRef(BaseModel):
    id: int
    name: str


class MyContract(ContractHead):
    """A contract of the caller's (ID number and phone masked)."""

    seq: int | None
    gender: str | None = None
    party_a: str
    start_date: dt.date
    end_date: dt.date | None
    status: str
    status_label: str
    termination_type: str | None
    termination_reason: str | None
    termination_initiated_at: dt.datetime | None
    termination_confirmed_at: dt.datetime | None
    attachment: FileRef | None
    uploaded_at: dt.datetime | None


class MyContracts(BaseModel):
    """The contracts of one membership and its contract warning."""

    member_id: int
    contract_status: str
    contract_status_label: str
    contract_warning: str | None
    contract_warning_label: str
    days_since_entry: int
    data: list[MyContract]
    total: int


# --- approvals (考勤补录) and announcements ---


class ApprovalDecision(Body):
    """审批意见 (required to reject)."""

    comment: str = Field("", max_length=500, title="审批意见")


class ChainNode(BaseModel):
    node: str
    label: str
    status: Literal["approved", "rejected", "current", "waiting"]


class ChainStep(BaseModel):
    node: str
    label: str
    approve: bool
    comment: str | None
    actor_name: str | None
    decided_at: dt.datetime | None


class SupplementMember(BaseModel):
    id: int
    name: str
    id_number: str


class Evidence(BaseModel):
    id: int
    name: str
    size: int
    content_type: str | None
    url: str | None


class SupplementView(BaseModel):
    """A supplementary-attendance request: state, chain progress and history."""

    id: int
    project_code: str
    project_name: str
    member: SupplementMember
    date: dt.date
    in_time: str | None
    out_time: str | None
    reason: str
    evidence: list[Evidence | None]
    state: Literal["pending", "approved", "rejected"]
    state_label: str
    current_node: str | None
    current_node_label: str | None
    chain: list[ChainNode]
    history: list[ChainStep]
    requester_name: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class AnnouncementQuery(PageQuery):
    page_size: int = Field(20, ge=1, le=50, title="每页条数")


class AnnouncementView(BaseModel):
    id: int
    title: str
    content: str
    publisher_name: str | None
    published_at: dt.datetime | None
