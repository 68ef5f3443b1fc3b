"""The error registry: every `code` the API answers with, once, with its HTTP status and
Chinese message (the default message; a raise site may pass a more specific one).

`docs/api.md` lists these (``scripts/routes.py``); ``tests/foundation/test_contract.py`` fails for
a ``code="..."`` literal at a raise site that is not registered here, or raised with another status.
`also` lists further statuses a code is raised with today (to be unified); a new code gets one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One registered error: stable code, HTTP status, default Chinese message."""

    code: str
    status: int
    message: str
    also: tuple[int, ...] = ()


REGISTRY: dict[str, ErrorCode] = {}


def _def(code: str, status: int, message: str, *also: int) -> ErrorCode:
    if code in REGISTRY:
        raise ValueError(f"error code {code!r} defined twice")
    entry = ErrorCode(code, status, message, tuple(also))
    REGISTRY[code] = entry
    return entry


def lookup(code: str) -> ErrorCode | None:
    """The registered entry of `code`, or None."""
    return REGISTRY.get(code)


ACCOUNT_ALREADY_BOUND = _def(
    "account_already_bound", 409, "该微信账号已完成实名绑定，如需更换请先解除绑定"
)
ACCOUNT_DISABLED = _def("account_disabled", 403, "该企业账号已停用，请联系平台运维")
ALREADY_DECIDED = _def("already_decided", 409, "该补录申请已审批结束")
ALREADY_MEMBER = _def("already_member", 409, "该人员已是本项目在职岗位人员")
ALREADY_REVIEWED = _def("already_reviewed", 403, "您已审核过该申请")
ANNOUNCEMENT_NOT_FOUND = _def("announcement_not_found", 404, "公告不存在")
AUDIT_FORBIDDEN = _def(
    "audit_forbidden", 403, "仅参建单位企业管理员和项目所在地主管部门可查看操作日志"
)
BAD_FIELD = _def("bad_field", 422, "字段格式不正确")
BAD_REQUEST = _def("bad_request", 400, "请求有误")
BAD_SIGNATURE = _def("bad_signature", 401, "签名无效或已过期", 403)
BEFORE_ENTRY = _def("before_entry", 422, "补录日期早于该人员进场日期")
BINDING_REQUEST_DECIDED = _def("binding_request_decided", 409, "该绑定申请已处理")
BINDING_REQUEST_NOT_FOUND = _def("binding_request_not_found", 404, "绑定申请不存在")
COMMAND_NOT_FOUND = _def("command_not_found", 404, "指令不存在")
CONFLICT = _def("conflict", 409, "操作与当前状态冲突")
CONTRACT_EXISTS = _def("contract_exists", 409, "该人员已有履约中的合同，如需重签请先删除或解约")
CONTRACT_NOT_ACTIVE = _def("contract_not_active", 409, "只能编辑履约中的合同")
CONTRACT_NOT_FOUND = _def("contract_not_found", 404, "合同不存在")
CREDIT_CODE_NAME_MISMATCH = _def(
    "credit_code_name_mismatch", 422, "该统一社会信用代码已登记为其他单位名称，请核对单位名称"
)
DATE_OUTSIDE_MONTH = _def("date_outside_month", 422, "日期应在所选月份内")
DEVICE_OFFLINE_FORCED = _def("device_offline_forced", 403, "设备已被强制下线")
DEVICE_UNBOUND = _def("device_unbound", 403, "设备未绑定项目")
DEVICE_UNKNOWN = _def("device_unknown", 403, "设备未登记")
DEVICE_BOUND = _def("device_bound", 409, "设备已绑定其他项目，请先解绑")
DEVICE_EXISTS = _def("device_exists", 409, "该设备编码已登记")
DEVICE_NOT_FOUND = _def("device_not_found", 404, "设备未登记")
DEVICE_OTHER_ENTERPRISE = _def("device_other_enterprise", 403, "该设备由其他企业登记")
DUPLICATE_REQUEST = _def("duplicate_request", 409, "该人员当日已有审批中的补录申请")
EMPTY_FILE = _def("empty_file", 422, "文件为空，请重新选择文件")
EMPTY_TEMPLATE = _def("empty_template", 422, "导入文件中没有人员数据")
ENTERPRISE_NOT_FOUND = _def("enterprise_not_found", 404, "该企业不存在（尚未随项目同步）")
ENTERPRISE_NOT_ON_PROJECT = _def(
    "enterprise_not_on_project", 403, "贵单位不是已同步项目的参建单位，无法登录"
)
FACE_MISSING = _def("face_missing", 404, "该人员的人脸照片缺失，请重新采集")
FACE_NOT_FOUND = _def("face_not_found", 404, "人脸照片不存在")
FILE_FORBIDDEN = _def("file_forbidden", 403, "无权查看人员照片")
FILE_MISSING = _def("file_missing", 404, "文件已丢失，请重新上传")
FILE_NOT_FOUND = _def("file_not_found", 404, "文件不存在")
FIRMWARE_EXISTS = _def("firmware_exists", 409, "该版本已登记")
FIRMWARE_NOT_FOUND = _def("firmware_not_found", 404, "安装包不存在")
FORBIDDEN = _def("forbidden", 403, "无权进行此操作")
FUTURE_DATE = _def("future_date", 422, "不能为未来日期补录考勤")
FUTURE_MONTH = _def("future_month", 422, "不能登记未来月份的材料月报")
HTTP_ERROR = _def("http_error", 400, "请求有误")
ID_EXPIRED = _def("id_expired", 422, "身份证已过期")
INTEGRITY = _def("integrity", 409, "记录已存在或与其他记录冲突")
INTERNAL_ERROR = _def("internal_error", 500, "服务器内部错误，请稍后再试")
INVALID_BANK_CARD = _def("invalid_bank_card", 422, "工资卡号应为12至19位数字")
INVALID_BRANCH_CODE = _def("invalid_branch_code", 422, "联行号应为12位数字")
INVALID_CATEGORY = _def(
    "invalid_category", 422, "人员类别应为 supervision（监理）、gc（总包）或 sub（分包）"
)
INVALID_CHOICE = _def("invalid_choice", 422, "所选项不在可选范围内")
INVALID_CREDIT_CODE = _def("invalid_credit_code", 422, "统一社会信用代码无效，请核对18位代码")
INVALID_DATE = _def("invalid_date", 422, "日期格式应为 YYYY-MM-DD")
INVALID_FIELD = _def("invalid_field", 422, "提交的信息有误")
INVALID_FILE = _def("invalid_file", 422, "导入文件格式不正确")
INVALID_FILE_TYPE = _def("invalid_file_type", 422, "请上传 .xlsx 格式的导入模板")
INVALID_HOST = _def("invalid_host", 422, "履职主持人不符合要求")
INVALID_ID_NUMBER = _def(
    "invalid_id_number", 422, "身份证号应为18位（前17位为数字，末位为数字或X）"
)
INVALID_KIND = _def("invalid_kind", 422, "类型不在可选范围内")
INVALID_MONTH = _def("invalid_month", 422, "月份格式应为 YYYY-MM")
INVALID_NEXT = _def("invalid_next", 422, "登录后跳转地址无效（应为本站路径）")
INVALID_NUMBER = _def("invalid_number", 422, "数值不正确")
INVALID_PHONE = _def("invalid_phone", 422, "手机号格式错误，应为11位手机号码")
INVALID_POST = _def("invalid_post", 422, "岗位无效")
INVALID_RANGE = _def("invalid_range", 422, "结束日期不能早于开始日期")
INVALID_ROW = _def("invalid_row", 422, "数据行格式不正确")
INVALID_TEMPLATE = _def("invalid_template", 422, "文件无法读取，请使用下载的导入模板填写")
INVALID_TERMINATION_TYPE = _def("invalid_termination_type", 422, "解约类型无效")
INVALID_TIME = _def("invalid_time", 422, "进场时间应早于出场时间")
INVALID_TYPE = _def("invalid_type", 422, "数据类型不正确")
INVALID_WORK_TYPE = _def("invalid_work_type", 422, "工种不在可选范围内，请从列表中选择")
MALFORMED_FORM = _def("malformed_form", 422, "表单数据无法解析")
MALFORMED_JSON = _def("malformed_json", 400, "请求体应为 JSON 对象", 422)
MATERIAL_KIND_NOT_FOUND = _def("material_kind_not_found", 404, "材料类型不存在")
MATERIAL_NOT_FOUND = _def("material_not_found", 404, "材料记录不存在")
MEMBER_LEFT = _def("member_left", 409, "该人员已离职，终端上已无其人脸照片")
MEMBER_NOT_FOUND = _def("member_not_found", 404, "该项目没有此人员")
METHOD_NOT_ALLOWED = _def("method_not_allowed", 405, "不支持该请求方法")
NO_LIVENESS = _def("no_liveness", 422, "人脸采集未通过活体检测")
NO_REGION = _def("no_region", 403, "主管部门账号未设置管辖区域")
NO_REVIEWER = _def("no_reviewer", 409, "未找到该项目的审核主管部门，请联系平台运维")
NO_TERMINALS = _def("no_terminals", 409, "本项目未绑定考勤设备，请先在设备管理中绑定设备")
NOT_ALLOWED_TO_FILE = _def(
    "not_allowed_to_file", 403, "仅总包/分包单位或有管理权限的岗位人员可发起考勤补录"
)
NOT_AUTHENTICATED = _def("not_authenticated", 401, "请先登录")
NOT_BOUND = _def("not_bound", 403, "请先完成实名绑定", 409)
NOT_CURRENT_NODE = _def("not_current_node", 403, "尚未轮到您审批")
NOT_FOUND = _def("not_found", 404, "记录不存在")
NOT_LABOUR = _def("not_labour", 409, "仅可为劳务人员发起考勤补录", 422)
NOT_ON_CHAIN = _def("not_on_chain", 403, "您不在该补录申请的审批流程中")
NOT_ON_PROJECT = _def("not_on_project", 422, "该人员不在本项目")
NOT_OWN_MEMBER = _def("not_own_member", 403, "只能为本单位的劳务人员发起补录")
NOT_OWN_RECORD = _def("not_own_record", 403, "只能查看本人的记录")
NOT_POST_PERSONNEL = _def("not_post_personnel", 403, "您不是任何项目的岗位人员")
NOT_YOUR_TURN = _def("not_your_turn", 403, "尚未轮到您审核")
OPEN_REQUEST_EXISTS = _def("open_request_exists", 409, "该项目已有待审核的状态变更申请")
OUT_OF_RANGE = _def("out_of_range", 422, "数值超出范围")
OUTSIDE_REGION = _def("outside_region", 403, "只能向本辖区发布通知公告")
PERSON_ALREADY_BOUND = _def("person_already_bound", 409, "该人员已绑定其他微信账号")
PERSON_NOT_ENROLLED = _def(
    "person_not_enrolled", 404, "未找到该身份证号的人员，请先完成人员登记", 422
)
PERSON_NOT_MATCHED = _def("person_not_matched", 404, "未找到与所填信息相符的人员")
PHOTO_NOT_FOUND = _def("photo_not_found", 404, "照片不存在")
PROJECT_FORBIDDEN = _def("project_forbidden", 403, "您在该项目中无权进行此操作")
PROJECT_NOT_FOUND = _def("project_not_found", 404, "项目不存在")
PUNCH_BLOCKED = _def("punch_blocked", 422, "该人员当日不能考勤", 409)
RATE_LIMITED = _def("rate_limited", 429, "操作过于频繁，请稍后再试")
READ_ONLY = _def("read_only", 422, "该字段不可修改")
REGION_NOT_FOUND = _def("region_not_found", 404, "行政区划代码不存在")
REPLAYED_NONCE = _def("replayed_nonce", 401, "请求已使用过（随机串重复）")
REPORT_EXISTS = _def("report_exists", 409, "该月的材料月报已登记")
REPORT_NOT_FOUND = _def("report_not_found", 404, "该月的材料月报尚未登记")
REQUEST_CHANGED = _def("request_changed", 409, "该申请状态已变化，请刷新后重试")
REQUEST_CLOSED = _def("request_closed", 409, "该申请已审核完成，不能撤回")
REQUEST_IN_REVIEW = _def("request_in_review", 409, "该申请已有审核意见，不能撤回")
REQUEST_NOT_FOUND = _def("request_not_found", 404, "申请不存在")
REQUIRED = _def("required", 422, "请填写必填项")
SAME_PARTY = _def("same_party", 422, "甲方和乙方不能是同一单位")
SAME_STATUS = _def("same_status", 422, "项目当前已是该状态")
SIGNATURE_EXPIRED = _def("signature_expired", 401, "设备时钟偏差过大，请校准时间后重试")
SSO_BAD_CLAIMS = _def("sso_bad_claims", 502, "统一身份认证平台返回的信息不完整，请联系平台运维")
SSO_DENIED = _def("sso_denied", 403, "统一身份认证平台未完成授权，请重新登录")
SSO_INVALID_GRANT = _def("sso_invalid_grant", 400, "登录授权已失效，请重新登录")
SSO_STATE_INVALID = _def("sso_state_invalid", 403, "登录请求已过期，请重新登录")
SSO_UNAVAILABLE = _def("sso_unavailable", 503, "统一身份认证平台暂时不可用，请稍后再试")
SUPPLEMENT_NOT_FOUND = _def("supplement_not_found", 404, "补录申请不存在")
TEAM_HAS_MEMBERS = _def("team_has_members", 409, "班组内还有在职人员，不能变更所属单位")
TEAM_NAME_TAKEN = _def("team_name_taken", 409, "本项目已有同名班组")
TEAM_NOT_FOUND = _def("team_not_found", 422, "班组不存在，请先在项目端建立班组", 404)
TEAM_OFF_SITE = _def("team_off_site", 409, "班组已退场，不能添加人员")
TICKET_EXPIRED = _def("ticket_expired", 410, "二维码已过期，请在网页上刷新二维码后重新扫码")
TICKET_INVALID = _def("ticket_invalid", 404, "二维码不存在或已失效，请刷新二维码")
TICKET_NOT_SCANNED = _def("ticket_not_scanned", 409, "请先扫描二维码")
TICKET_TAKEN = _def("ticket_taken", 409, "该二维码已被其他微信扫描，请刷新二维码")
TICKET_USED = _def("ticket_used", 409, "该二维码已使用，请在网页上刷新二维码后重新扫码")
TOKEN_INVALID = _def("token_invalid", 401, "登录已过期或已退出，请重新登录")
TOO_LARGE = _def("too_large", 413, "提交的内容过大", 422)
TOO_LONG = _def("too_long", 422, "输入的内容过长")
TOO_MANY = _def("too_many", 422, "附件数量超出上限")
TOO_MANY_ROWS = _def("too_many_rows", 422, "一次导入的行数超出上限，请分批导入")
TOO_SHORT = _def("too_short", 422, "输入的内容过短")
UNAVAILABLE = _def("unavailable", 503, "服务暂时不可用，请稍后再试")
UNIT_ADMIN_ONLY = _def(
    "unit_admin_only", 403, "仅建设单位、施工总承包单位或项目管理人员可登记和管理参建单位"
)
UNIT_ALREADY_EXITED = _def("unit_already_exited", 409, "该单位已退场")
UNIT_EXISTS = _def("unit_exists", 409, "该单位已是本项目的参建单位，如需调整请使用编辑")
UNIT_FORBIDDEN = _def("unit_forbidden", 403, "仅总包单位可向考勤设备下发人员")
UNIT_HAS_MEMBERS = _def("unit_has_members", 409, "该单位仍有在职人员，请先办理人员退场")
UNIT_NOT_FOUND = _def("unit_not_found", 404, "参建单位不存在")
UNIT_NOT_ON_PROJECT = _def("unit_not_on_project", 422, "该单位不是本项目的参建单位")
UNIT_NOT_REGISTERED = _def("unit_not_registered", 422, "所选单位不是本项目已登记的参建单位")
UNIT_NOT_YOURS = _def("unit_not_yours", 403, "只能编辑本单位的信息")
UNIT_ROLE_INVALID = _def("unit_role_invalid", 422, "班组只能属于施工总承包单位或分包单位")
UNKNOWN_AGREEMENT = _def(
    "unknown_agreement", 422, "关联的资金托管协议号不存在，请先登记资金托管协议"
)
UNKNOWN_FILE = _def("unknown_file", 422, "附件不存在或不属于本项目，请重新上传")
UNKNOWN_PARAMETER = _def("unknown_parameter", 422, "不支持的查询参数")
UNKNOWN_PERSON = _def("unknown_person", 422, "该人员尚未采集，请先办理人员进场")
UNKNOWN_REGION = _def("unknown_region", 422, "行政区划不存在")
UNKNOWN_UNIT = _def("unknown_unit", 422, "所属单位不在该项目的参建单位中")
VOUCHER_NOT_FOUND = _def("voucher_not_found", 404, "凭证不存在")
WECHAT_DECRYPT_FAILED = _def("wechat_decrypt_failed", 400, "微信数据解密失败，请重新授权")
WECHAT_ERROR = _def("wechat_error", 502, "微信接口调用失败")
WECHAT_INVALID_CODE = _def("wechat_invalid_code", 400, "微信登录凭证无效或已过期，请重新进入小程序")
WECHAT_PAGE_INVALID = _def("wechat_page_invalid", 503, "小程序页面配置有误，请联系平台运维")
WECHAT_RATE_LIMITED = _def("wechat_rate_limited", 429, "微信接口调用过于频繁，请稍后再试")
WECHAT_UNAVAILABLE = _def("wechat_unavailable", 503, "微信服务暂时不可用，请稍后再试")
WECHAT_USER_BLOCKED = _def("wechat_user_blocked", 403, "微信账号存在风险，暂不能使用")
WRONG_ACCOUNT_KIND = _def("wrong_account_kind", 403, "当前账号类型无权访问该功能")
WRONG_DEVICE_KIND = _def("wrong_device_kind", 403, "该设备不是采集设备，不能采集人员")
WRONG_REVIEWER = _def("wrong_reviewer", 403, "您无权审核该申请")
