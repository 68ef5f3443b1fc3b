"""Project information (参建单位, 项目材料, 项目状态变更, 工作台, 通知公告, 项目): request and reply
models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from realname.contract import INT_MAX, Body, Page, PageQuery, Query
from services.schemas.labour import Date


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# 在场/退场 as the forms send it (true/false, 在场/退场); the service reads the words.
OnSiteText = Annotated[
    Annotated[str, Field(max_length=8)] | None,
    BeforeValidator(lambda v: ("true" if v else "false") if isinstance(v, bool) else v),
]
UnitRoleName = Literal[
    "",
    "builder",
    "supervisor",
    "general_contractor",
    "specialty_subcontractor",
    "labour_subcontractor",
]


class FilePublic(BaseModel):
    """An attachment: name, size, type and its download address."""

    id: int
    name: str
    size: int
    content_type: str
    url: str | None


# --- 参建单位 ------------------------------------------------------------------------------------


class UnitQuery(PageQuery):
    """参建单位 filters."""

    role: UnitRoleName = Field("", title="责任主体")
    q: str = Field("", max_length=128, title="企业名称/统一社会信用代码/现场负责人")


class UnitPublic(BaseModel):
    """A row of 参建单位: 企业名称, 统一社会信用代码, 责任主体, 现场负责人, 参与人数, 进出场状态."""

    seq: int | None = None
    id: int
    enterprise_name: str
    credit_code: str
    role: str
    role_label: str
    site_lead: str
    site_lead_phone: str
    participant_count: int
    on_site: bool
    on_site_label: str
    entry_date: dt.date | None
    exit_date: dt.date | None
    specialty: str
    region_code: str | None
    registered_on: dt.date | None
    contract: FilePublic | None
    contract_registered_at: dt.datetime | None
    synced: bool


class UnitChoice(BaseModel):
    """A registered unit a form may choose."""

    id: int
    name: str
    credit_code: str
    role: str
    role_label: str
    on_site: bool


class UnitCreate(Body):
    """登记分包单位 (the ``contract_file`` upload travels beside these fields)."""

    name: str = Field("", max_length=128, title="单位名称")
    credit_code: str = Field("", max_length=18, title="统一社会信用代码")
    role: str = Field("", max_length=32, title="责任主体（专业分包 / 劳务分包）")
    region_code: str = Field("", max_length=6, title="企业注册区域")
    registered_on: Date = Field(None, title="企业注册日期")
    entry_date: Date = Field(None, title="进场日期")
    specialty: str = Field("", max_length=64, title="承包专业")
    site_lead: str = Field("", max_length=64, title="现场负责人")
    site_lead_phone: str = Field("", max_length=20, title="现场负责人电话")


class UnitUpdate(Body):
    """编辑单位: only the fields sent change."""

    name: str | None = Field(None, max_length=128, title="单位名称")
    credit_code: str | None = Field(None, max_length=18, title="统一社会信用代码")
    region_code: str | None = Field(None, max_length=6, title="企业注册区域")
    registered_on: Date = Field(None, title="企业注册日期")
    entry_date: Date = Field(None, title="进场日期")
    exit_date: Date = Field(None, title="出场日期")
    specialty: str | None = Field(None, max_length=64, title="承包专业")
    site_lead: str | None = Field(None, max_length=64, title="现场负责人")
    site_lead_phone: str | None = Field(None, max_length=20, title="现场负责人电话")
    on_site: OnSiteText = Field(None, title="进场状态")


class UnitExit(Body):
    """退场: the date the unit left the site."""

    exit_date: Date = Field(None, title="出场日期")


def fields(body: BaseModel) -> dict[str, Any]:
    """The fields a caller sent, as the services' form readers take them (dates as text)."""
    return body.model_dump(mode="json", exclude_unset=True)


# --- 项目材料 ------------------------------------------------------------------------------------


Id = Annotated[Annotated[int, Field(ge=1, le=INT_MAX)] | None, BeforeValidator(_blank_none)]


def _number_text(value: Any) -> Any:
    """Numbers as the text the services parse (they name the field in their own words)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    return _blank_none(value)


# A money amount / a percentage as sent (number or text); the service checks the value and
# refuses it with the form's label (收款金额(元)应大于0, 最多保留两位小数...).
Amount = Annotated[Annotated[str, Field(max_length=32)] | None, BeforeValidator(_number_text)]
Percent = Amount
VoucherKindName = Literal["", "contract", "receipt", "payment"]
WageKindName = Literal[
    "",
    "escrow_agreement",
    "account_opening",
    "wage_deposit",
    "payment_guarantee",
    "gc_payroll_agreement",
]


class MonthlyQuery(Query):
    """材料月报: the year shown (default this year)."""

    year: int | None = Field(None, ge=2000, le=2100, title="年份")


class MonthState(BaseModel):
    """One month of 材料月报: 已登记 / 未登记."""

    year: int
    month: int
    registered: bool
    state_label: str
    item_count: int
    registered_by: str
    registered_at: dt.datetime | None


class MaterialItem(Body):
    """A contract, receipt or payment line of a monthly report."""

    kind: str = Field("", max_length=16, title="材料类型（contract / receipt / payment）")
    unit_id: Id = Field(None, title="单位")
    number: str = Field("", max_length=64, title="合同编号/凭证号")
    counterparty: str = Field("", max_length=128, title="合同相对方/付款方/收款方")
    amount: Amount = Field(None, title="金额(元)")
    date: Date = Field(None, title="日期")
    file_id: Id = Field(None, title="附件")


class MonthRegister(Body):
    """登记 a month's material report."""

    note: str = Field("", max_length=255, title="备注")
    items: list[MaterialItem] = Field(default_factory=list, max_length=100, title="材料明细")


class MaterialItems(Body):
    """补充 lines to a registered month."""

    items: list[MaterialItem] = Field(default_factory=list, max_length=100, title="材料明细")


class VoucherPublic(BaseModel):
    """A contract/voucher line."""

    seq: int | None = None
    id: int
    kind: str
    kind_label: str
    month: str
    unit_id: int
    unit_name: str
    number: str
    counterparty: str
    amount: str
    date: dt.date
    file: FilePublic | None
    registered_by: str
    registered_at: dt.datetime


class MonthReport(BaseModel):
    """A registered month with its contracts, receipts and payments."""

    id: int
    year: int
    month: int
    note: str
    registered_by: str
    registered_at: dt.datetime
    contracts: list[VoucherPublic]
    receipts: list[VoucherPublic]
    payments: list[VoucherPublic]


class VoucherQuery(PageQuery):
    """工程款收款凭证 / 材料款付款凭证 filters."""

    kind: VoucherKindName = Field("", title="凭证类型")
    month: str = Field("", max_length=7, title="月份（YYYY-MM）")


class VoucherPage(Page[VoucherPublic]):
    """A page of vouchers with the total amount of all matching lines."""

    total_amount: str


class WageQuery(Query):
    """工资专户材料: one kind only (default all)."""

    kind: WageKindName = Field("", title="材料类型")


class WageMaterialCreate(Body):
    """登记 a wage-account material: the fields of its kind (see ``fields`` of the page)."""

    party_a_unit_id: Id = Field(None, title="甲方")
    party_b_unit_id: Id = Field(None, title="乙方")
    unit_id: Id = Field(None, title="所属单位")
    bank_name: str = Field("", max_length=128, title="银行名称")
    bank_branch_code: str = Field("", max_length=12, title="联行号")
    account_name: str = Field("", max_length=128, title="账户名称")
    agreement_no: str = Field("", max_length=128, title="协议编号")
    advance_min_ratio: Percent = Field(None, title="工资预付款占合同价最低比例")
    monthly_min_ratio: Percent = Field(None, title="工资月执行金额占进度款最低比例")
    deposit_method: str = Field("", max_length=32, title="保证金缴纳方式")
    guarantee_method: str = Field("", max_length=32, title="担保方式")
    institution: str = Field("", max_length=128, title="担保/保险机构")
    guarantee_no: str = Field("", max_length=128, title="保函/保单编号")
    amount: Amount = Field(None, title="金额(元)")
    start_date: Date = Field(None, title="开始日期")
    end_date: Date = Field(None, title="结束日期")
    signed_on: Date = Field(None, title="签订日期")
    file_id: Id = Field(None, title="附件")


class WageMaterialPublic(BaseModel):
    """A registered wage-account material (its kind's fields beside these)."""

    model_config = ConfigDict(extra="allow")

    seq: int
    id: int
    kind: str
    kind_label: str
    file: FilePublic | None
    registered_by: str
    registered_at: dt.datetime


class WageField(BaseModel):
    key: str
    label: str
    type: str
    required: bool
    choices: list[str] | None = None


class WageSection(BaseModel):
    kind: str
    label: str
    description: str
    file_label: str
    fields: list[WageField]
    count: int
    data: list[WageMaterialPublic]


class WageMaterials(BaseModel):
    """工资专户材料: counts per kind and each kind's form fields and rows."""

    counts: dict[str, int]
    kinds: list[WageSection]


# --- 项目状态变更 --------------------------------------------------------------------------------

RequestStateName = Literal["", "pending", "approved", "rejected", "withdrawn"]


class StatusChangeQuery(PageQuery):
    """变更记录 filter: 审批状态."""

    state: RequestStateName = Field("", title="审批状态")


class StatusChangeApply(Body):
    """变更申请 (the ``files`` uploads travel beside these fields)."""

    to_status: str = Field("", max_length=16, title="变更状态")
    reason: str = Field("", max_length=1000, title="变更原因")


class ProjectBrief(BaseModel):
    code: str
    name: str
    status: str


class ReviewStepPublic(BaseModel):
    """One review step: 审核级别, 审核结果, 审核人, 审核意见, 审核时间."""

    seq: int
    level: str
    step_label: str
    region_code: str
    region_name: str
    state: str
    state_label: str
    reviewer: str | None
    notes: str | None
    decided_at: dt.datetime | None


class StatusChangePublic(BaseModel):
    """A status change request: 变更前状态, 变更状态, 审批状态, 当前审核人, 发起人, 发起时间."""

    seq: int | None = None
    id: int
    from_status: str
    to_status: str
    state: str
    state_label: str
    current_reviewer: str
    initiator: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    reason: str
    project: ProjectBrief | None = None
    my_step: str | None = None
    files: list[FilePublic] | None = None
    reviews: list[ReviewStepPublic] | None = None


class ReviewChainStep(BaseModel):
    level: str
    region_code: str
    step_label: str


class StatusChangePage(Page[StatusChangePublic]):
    """变更记录 with the project's current status, the choices and the review chain."""

    current_status: str
    statuses: list[str]
    review_chain: list[ReviewChainStep]


class ReviewQueueQuery(PageQuery):
    """The regulator's queue: waiting for me (``pending``) or decided by my region (``done``)."""

    state: Literal["pending", "done", ""] = Field("", title="审核状态")


class ReviewDecision(Body):
    """审核意见 (required when rejecting)."""

    notes: str = Field("", max_length=1000, title="审核意见")


# --- 通知公告 ------------------------------------------------------------------------------------


class AnnouncementCreate(Body):
    """发布通知公告: title, content, and the region it goes to (default my region)."""

    title: str = Field("", max_length=200, title="公告标题")
    content: str = Field("", max_length=20000, title="公告内容")
    region_code: str = Field("", max_length=6, title="发布区域")


class AnnouncementPublic(BaseModel):
    """A notice: 标题, 发布区域, 发布单位, 发布时间 (the detail adds 内容)."""

    id: int
    title: str
    region_code: str | None
    region_name: str
    publisher: str
    published_at: dt.datetime
    withdrawn: bool
    content: str | None = None


class Withdrawn(BaseModel):
    withdrawn: bool


# --- 工作台 --------------------------------------------------------------------------------------


class WorkbenchQuery(Query):
    """The year of the 材料月报 months (default this year)."""

    year: int | None = Field(None, ge=2000, le=2100, title="年份")


class MaterialCard(BaseModel):
    key: str
    label: str
    title: str
    uploaded: bool
    state_label: str


class PersonTypeCount(BaseModel):
    person_type: str
    label: str
    count: int


class UnitCount(BaseModel):
    unit_id: int
    unit_name: str
    count: int


class AttendanceSummary(BaseModel):
    """Today's on-site count by person type and unit, and this month's attendance rate."""

    date: str
    on_site_total: int
    on_site_by_person_type: list[PersonTypeCount]
    on_site_by_unit: list[UnitCount]
    month: str
    attended_member_days: int
    expected_member_days: int
    attendance_rate: float


class TodoItem(BaseModel):
    key: str
    label: str
    count: int


class Todos(BaseModel):
    """待办事项 with the contract warning counts (yellow, orange, red)."""

    total: int
    items: list[TodoItem]
    contract_warnings: dict[str, int]


class ReportMonth(BaseModel):
    month: int
    registered: bool
    state_label: str


class ReportMonths(BaseModel):
    year: int
    months: list[ReportMonth]


class SwitchProject(BaseModel):
    code: str
    name: str
    status: str
    current: bool


class Workbench(BaseModel):
    """工作台: materials, attendance, to-dos, announcements, report months, my projects."""

    project: ProjectBrief
    materials: list[MaterialCard]
    attendance: AttendanceSummary
    todos: Todos
    announcements: Page[AnnouncementPublic]
    monthly_reports: ReportMonths
    my_projects: list[SwitchProject]


# --- 项目 ----------------------------------------------------------------------------------------


class ProjectListItem(BaseModel):
    """A project the caller may switch to."""

    code: str
    name: str
    status: str
    region_code: str


class ProjectPublic(BaseModel):
    """基础信息: the project as the construction permit describes it, and my capabilities."""

    code: str
    name: str
    type: str
    region_code: str
    region: str
    managing_level: str
    permit_number: str
    permit_authority: str
    cost: str | None
    status: str
    synced_at: dt.datetime | None
    my_capabilities: list[str]


class ImportError_(BaseModel):
    model_config = ConfigDict(title="ProjectImportError")

    index: int
    field: str | None
    code: str
    message: str


class PermitUnit(BaseModel):
    """A responsible unit of a permit row (责任主体)."""

    role: Literal["builder", "supervisor", "general_contractor"] = Field(title="责任主体")
    name: str = Field(min_length=1, max_length=128, title="企业名称")
    credit_code: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", title="统一社会信用代码")
    site_lead: str = Field("", max_length=64, title="现场负责人")
    site_lead_phone: str = Field("", max_length=11, title="现场负责人电话")
    entry_date: dt.date | None = Field(None, title="进场日期")


class PermitPerson(BaseModel):
    """A key post of a permit row (项目经理 / 总监理工程师)."""

    role: Literal["project_manager", "chief_supervisor"] = Field(title="岗位")
    name: str = Field(min_length=1, max_length=64, title="姓名")
    id_number: str = Field(pattern=r"^\d{17}[\dXx]$", title="身份证号")
    unit_credit_code: str | None = Field(None, max_length=18, title="所属单位信用代码")


# the cost column: 16 digits, 2 of them decimals (an inclusive bound: the document is OpenAPI 3.0)
COST_MAX = Decimal("99999999999999.99")


class PermitRow(BaseModel):
    """One project of the construction-permit data (施工许可): the import checks each row and
    reports a refused one by index and field, importing the others."""

    code: str = Field(min_length=1, max_length=64, title="项目编号")
    name: str = Field(min_length=1, max_length=200, title="项目名称")
    type: str = Field("", max_length=64, title="项目类型")
    region_code: str = Field(pattern=r"^\d{6}$", title="项目区域")
    managing_level: Literal["county", "city", "province"] = Field("county", title="管理层级")
    permit_number: str = Field("", max_length=64, title="施工许可证号")
    permit_authority: str = Field("", max_length=128, title="发证机关")
    cost: Decimal | None = Field(None, ge=0, le=COST_MAX, title="工程造价（元）")
    units: list[PermitUnit] = Field(default_factory=list, title="参建单位")
    key_personnel: list[PermitPerson] = Field(default_factory=list, title="关键岗位人员")


class ProjectImportResult(BaseModel):
    """Rows created, updated, and the refused ones with their index, field and reason."""

    created: int
    updated: int
    errors: list[ImportError_]
    total: int


class PublicProjectQuery(PageQuery):
    """项目查询: by name (at least two characters) or construction-permit number."""

    name: str = Field("", max_length=200, title="项目名称")
    permit_number: str = Field("", max_length=64, title="施工许可证号")
    page_size: int = Field(10, ge=1, le=20, title="每页条数")


class PublicUnit(BaseModel):
    name: str
    credit_code: str
    role: str
    role_label: str


class PublicPerson(BaseModel):
    role: str
    role_label: str
    name: str


class PublicProject(BaseModel):
    """A project as anyone may see it: units and key post personnel by name only."""

    name: str
    permit_number: str
    region: str
    status: str
    units: list[PublicUnit]
    key_personnel: list[PublicPerson]
