"""Sign-in and binding (登录, 实名绑定确认): request and reply models of the admin console."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from realname.contract import Body, Query
from services.schemas.miniapp import BindingRequestView


class BindingRequestQuery(Query):
    """Binding requests by state (default those waiting; ``all`` for every one)."""

    status: Literal["pending", "approved", "rejected", "cancelled", "all"] = Field(
        "pending", title="状态"
    )


class BindingDecision(Body):
    """The officer's note (the reason is required when rejecting)."""

    note: str = Field("", max_length=200, title="备注")


class BindingPerson(BaseModel):
    name: str
    id_number_masked: str
    enrolled_phone_masked: str


class BindingRequestRow(BindingRequestView):
    """A request with the enrolled person (masked) and the WeChat phone (masked)."""

    person: BindingPerson
    wechat_phone_masked: str | None


# --- web sign-in ---------------------------------------------------------------------------------


class SsoStartQuery(Query):
    """Where to return after sign-in, and ``mode=json`` for the URL instead of a redirect."""

    next: str = Field("", max_length=300, title="登录后返回的页面")
    mode: Literal["", "json", "redirect"] = Field("", title="返回方式")
    kind: Literal["enterprise", "regulator"] = Field(
        "enterprise", title="登录身份（enterprise 企业登录 / regulator 主管部门登录）"
    )


class SsoStartReply(BaseModel):
    """``mode=json``: the provincial platform's authorize URL to open."""

    authorize_url: str


class SsoCallbackQuery(Query):
    """The identity platform's redirect back (RFC 6749 §4.1.2): ``code`` and ``state``, or an
    ``error``. The platform decides what else it appends (``iss``, ``session_state``...), so
    parameters beyond these are ignored here rather than refused: refusing them would lock every
    enterprise out when the platform adds one."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    code: str | None = Field(None, max_length=2048, title="授权码")
    state: str | None = Field(None, max_length=256, title="state")
    error: str | None = Field(None, max_length=256, title="错误代码")
    error_description: str | None = Field(None, max_length=1024, title="错误说明")
    iss: str | None = Field(None, max_length=2048, title="签发方")


class AccountView(BaseModel):
    kind: str
    display_name: str


class SignInReply(BaseModel):
    """A session: the bearer token (also set as the HttpOnly ``token`` cookie) and who it is."""

    token: str
    token_type: str
    expires_in: int
    account: AccountView


QrStatus = Literal["pending", "scanned", "confirmed", "cancelled", "expired"]


class QrTicket(BaseModel):
    """A QR sign-in ticket: the mini-program code to scan and the secret only this page holds."""

    ticket: str
    secret: str
    status: QrStatus
    expires_in: int
    message: str
    qr_image: str


class QrWaitQuery(Query):
    """Long-poll: wait (at most 30 s) until the status differs from ``known``."""

    secret: str = Field("", max_length=64, title="票据密钥")
    known: QrStatus | Literal[""] = Field("", title="已知状态")
    wait: float = Field(0, ge=0, le=30, allow_inf_nan=False, title="等待秒数")


class QrWsQuery(Query):
    """The ticket's secret (or the ``X-Ticket-Secret`` header)."""

    secret: str = Field("", max_length=64, title="票据密钥")


class QrTicketView(BaseModel):
    """The ticket's status; once confirmed, the session (token, account) as well."""

    ticket: str
    status: QrStatus
    message: str
    expires_in: int | None = None
    reason: str | None = None
    token: str | None = None
    token_type: str | None = None
    account: AccountView | None = None


class LoggedOut(BaseModel):
    message: str


class ProjectRef(BaseModel):
    code: str
    name: str


class PostRef(BaseModel):
    code: str
    label: str


class PostProjectRef(ProjectRef):
    posts: list[PostRef]


class MeReply(BaseModel):
    """The signed-in account and the projects it may switch between (post projects for people)."""

    model_config = ConfigDict(title="AdminMe")

    kind: str
    display_name: str
    projects: list[ProjectRef]
    post_projects: list[PostProjectRef] | None = None
