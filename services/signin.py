"""Sign-in: enterprise SSO (with the rule-9 gate), mini-program login and web QR sign-in tickets.

* Enterprise SSO: `sso_start` keeps ``state → PKCE verifier`` in Redis (single use, 10 minutes);
  `sso_finish` redeems it, asks the provincial platform who signed in, and lets the company in
  only when it is a participating unit of at least one synced project (rule 9).
* Mini-program: `miniapp_login` exchanges a wx.login code for an account of kind person; the
  WeChat session_key stays in Redis on the server, never in a reply.
* QR sign-in (个人扫码登录): a ticket lives in a Redis hash and moves
  pending → scanned → confirmed | cancelled | expired. The web holds a secret the QR code does
  not carry, so only the page that asked for the ticket can collect the session, once.
  Only post personnel (rule 9) may confirm.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis.asyncio as aredis
from redis.exceptions import WatchError

from models import (
    Account,
    AccountKind,
    Enterprise,
    ParticipatingUnit,
    Project,
)
from models.people import POST_LABELS, Post
from realname import error_codes as E
from realname.errors import AppError, Conflict, Forbidden, NotFound, ValidationError
from services import accounts, audit, identity, localtime
from services.held_posts import held_posts
from services.identity import Principal

# --- enterprise SSO ---

SSO_STATE_PREFIX = "sso:state:"
SSO_STATE_TTL = 600

MSG_ENTERPRISE_NOT_ON_PROJECT = (
    "贵企业未加入任何已同步的项目，暂不能登录。请点击网站下方【项目查询】核对参建单位信息；"
    "若参建单位与实际不符，请前往青海省工程建设云变更施工许可证参建单位信息，"
    "审核通过一个工作日后即可登录系统。"
)
MSG_SSO_STATE = "登录请求已失效或不是由本系统发起，请重新登录"
MSG_SSO_BROWSER = (
    "该登录链接不是由您当前的浏览器发起的，为保护您的账号已拒绝登录。"
    "请在本系统首页点击【企业登录】重新登录"
)
MSG_NOT_REGULATOR = "该账号是企业账号，不能登录主管部门端。请返回登录页使用【企业登录】"
MSG_NOT_ENTERPRISE = "该账号是主管部门账号，请返回登录页使用【主管部门登录】"
MSG_UNKNOWN_REGION = "统一身份认证平台返回的主管部门所属行政区划不在本系统的区划中，请联系平台运维"
SSO_BROWSER_COOKIE = "sso_nonce"
SSO_KINDS = ("enterprise", "regulator")


@dataclass
class SignIn:
    """A successful sign-in: the bearer token and who it stands for."""

    token: str
    principal: Principal
    expires_in: int
    next_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The reply body (the principal without internal ids that mean nothing to clients)."""
        return {
            "token": self.token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "account": {"kind": self.principal.kind, "display_name": self.principal.display_name},
        }


def safe_next_path(value: str | None) -> str | None:
    """A same-site path to return to after sign-in, or None (never an open redirect)."""
    if not value:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 300:
        raise ValidationError(
            "登录后跳转地址无效（应为本站路径）", code=E.INVALID_NEXT.code, field="next"
        )
    return value


async def sso_start(
    redis: aredis.Redis, idauth: Any, next_path: str | None = None, kind: str = "enterprise"
) -> tuple[str, str]:
    """Begin an SSO sign-in: remember state → PKCE verifier, the browser it was started in and
    whether it is 企业登录 or 主管部门登录 (``kind``).

    Returns the authorize URL and a browser nonce for the short-lived ``sso_nonce`` cookie; the
    callback is accepted only from the browser holding it (RFC 6749 §10.12: login CSRF).
    """
    url, state, verifier = idauth.authorization_url()
    browser = secrets.token_urlsafe(24)
    value = json.dumps(
        {
            "verifier": verifier,
            "next": safe_next_path(next_path),
            "browser": _hash(browser),
            "kind": kind if kind in SSO_KINDS else "enterprise",
        }
    )
    await redis.set(SSO_STATE_PREFIX + state, value, ex=SSO_STATE_TTL)
    return url, browser


async def enterprise_gate(credit_code: str) -> tuple[Enterprise, list[Project]]:
    """Rule 9: the company and its synced projects, or Forbidden with what to do about it."""
    enterprise = await Enterprise.get_or_none(credit_code=credit_code)
    projects: list[Project] = []
    if enterprise is not None:
        ids = await ParticipatingUnit.filter(enterprise_id=enterprise.id).values_list(
            "project_id", flat=True
        )
        projects = await Project.filter(id__in=list(ids), synced_at__isnull=False).order_by("code")
    if enterprise is None or not projects:
        raise Forbidden(MSG_ENTERPRISE_NOT_ON_PROJECT, code=E.ENTERPRISE_NOT_ON_PROJECT.code)
    return enterprise, projects


async def _refused(ip: str, reason: str, who: Any = None, target: str = "", **detail: str) -> None:
    """Audit one refused SSO sign-in: anonymous until the identity platform said who it is
    (``who``: then the department or company and its account there)."""
    kind = "anonymous" if who is None else ("regulator" if who.is_regulator else "enterprise")
    await audit.record(
        "signin.sso_refused",
        actor_kind=kind,
        actor_id="" if who is None else who.account_id,
        target=target,
        ip=ip,
        detail={"reason": reason, **detail},
    )


async def sso_finish(
    redis: aredis.Redis,
    idauth: Any,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    ip: str,
    ttl: int,
    browser: str | None = None,
) -> SignIn:
    """Finish SSO: check state (single use) and that this browser started the sign-in (the
    ``sso_nonce`` cookie), redeem the code, apply rule 9, issue a token."""
    stored = await redis.getdel(SSO_STATE_PREFIX + state) if state else None
    if stored is None:
        await _refused(ip, "state_invalid")
        raise Forbidden(MSG_SSO_STATE, code=E.SSO_STATE_INVALID.code, field="state")
    saved = json.loads(stored)
    if not browser or not hmac.compare_digest(saved.get("browser", ""), _hash(browser)):
        # Someone else's sign-in (a link an attacker sent): never sign this browser in as them.
        await _refused(ip, "browser_mismatch")
        raise Forbidden(MSG_SSO_BROWSER, code=E.SSO_STATE_INVALID.code, field="state")
    if error:
        await _refused(ip, "idp_error", error=error[:64])
        raise Forbidden("统一身份认证平台未完成授权，请重新登录", code=E.SSO_DENIED.code)
    if not code:
        raise ValidationError("缺少授权码", code=E.REQUIRED.code, field="code")
    who = await idauth.fetch_identity(code, saved["verifier"])
    if (saved.get("kind") == "regulator") != who.is_regulator:
        # 企业登录 by a department's account, or 主管部门登录 by a company's: say which to use.
        await _refused(ip, "wrong_entry", who, who.region_code or who.credit_code)
        message = MSG_NOT_ENTERPRISE if who.is_regulator else MSG_NOT_REGULATOR
        raise Forbidden(message, code=E.WRONG_ACCOUNT_KIND.code)
    if who.is_regulator:
        return await _regulator_sign_in(redis, who, ip=ip, ttl=ttl, next_path=saved.get("next"))
    try:
        enterprise, projects = await enterprise_gate(who.credit_code)
    except Forbidden:
        await _refused(ip, "enterprise_not_on_project", who, who.credit_code)
        raise
    account, _ = await Account.get_or_create(
        kind=AccountKind.ENTERPRISE,
        enterprise=enterprise,
        defaults={"display_name": enterprise.name},
    )
    if not account.is_active:
        raise Forbidden("该企业账号已停用，请联系平台运维", code=E.ACCOUNT_DISABLED.code)
    if account.external_id is None and not await Account.exists(external_id=who.account_id):
        account.external_id = who.account_id
    account.last_login_at = localtime.now()
    await account.save(update_fields=["external_id", "last_login_at"])
    detail = {"projects": len(projects)}
    return await _sso_session(
        redis, account, ttl, ip, enterprise.credit_code, detail, saved.get("next")
    )


async def _sso_session(
    redis: aredis.Redis,
    account: Account,
    ttl: int,
    ip: str,
    target: str,
    detail: dict[str, Any],
    next_path: str | None,
) -> SignIn:
    """The session of an account signed in through the SSO, audited (``next_path``: where the
    browser goes next)."""
    principal = identity.principal_for_account(account)
    token = await identity.issue_token(redis, principal, ttl)
    await audit.record("signin.sso", principal=principal, target=target, ip=ip, detail=detail)
    return SignIn(token, principal, ttl, next_path)


async def _regulator_sign_in(
    redis: aredis.Redis, who: Any, *, ip: str, ttl: int, next_path: str | None
) -> SignIn:
    """主管部门登录: the department's account of its region (one per region, as the CLI's)."""
    try:
        account = await accounts.regulator_account(who.region_code)
    except NotFound:
        await _refused(ip, "unknown_region", who, who.region_code)
        raise AppError(MSG_UNKNOWN_REGION, code=E.SSO_BAD_CLAIMS.code, status=502) from None
    if not account.is_active:
        raise Forbidden("该主管部门账号已停用，请联系平台运维", code=E.ACCOUNT_DISABLED.code)
    account.last_login_at = localtime.now()
    await account.save(update_fields=["last_login_at"])
    detail = {"account": who.account_id[:64]}
    return await _sso_session(redis, account, ttl, ip, who.region_code, detail, next_path)


async def sign_out(redis: aredis.Redis, token: str | None, principal: Principal, ip: str) -> None:
    """Revoke the caller's token and audit it."""
    if token:
        await identity.revoke_token(redis, token)
    await audit.record("signin.logout", principal=principal, ip=ip)


# --- mini-program ---

SESSION_KEY_PREFIX = "wx:sk:"


async def miniapp_login(
    redis: aredis.Redis, wechat: Any, js_code: str | None, *, ip: str, ttl: int
) -> tuple[SignIn, Account]:
    """Exchange a wx.login code for a bearer token of the WeChat user's person account."""
    if not js_code or not str(js_code).strip():
        raise ValidationError("缺少微信登录凭证 code", code=E.REQUIRED.code, field="code")
    if len(str(js_code)) > 128:
        raise ValidationError("微信登录凭证 code 格式错误", code=E.INVALID_FIELD.code, field="code")
    session = await wechat.code_to_session(str(js_code).strip())
    account, created = await Account.get_or_create(
        wechat_openid=session["openid"],
        defaults={
            "kind": AccountKind.PERSON,
            "display_name": "微信用户",
            "wechat_unionid": session.get("unionid"),
        },
    )
    if account.kind != AccountKind.PERSON or not account.is_active:
        raise Forbidden("该微信账号不可用于登录小程序", code=E.ACCOUNT_DISABLED.code)
    account.last_login_at = localtime.now()
    await account.save(update_fields=["last_login_at"])
    # The session_key decrypts wx encryptedData later; it is a secret shared with WeChat only.
    await redis.set(SESSION_KEY_PREFIX + str(account.id), session["session_key"], ex=ttl)
    principal = identity.principal_for_account(account)
    token = await identity.issue_token(redis, principal, ttl)
    await audit.record("signin.miniapp", principal=principal, ip=ip, detail={"new": created})
    return SignIn(token, principal, ttl), account


async def session_key_of(redis: aredis.Redis, account_id: int) -> str | None:
    """The WeChat session_key of an account's latest login (server-side use only)."""
    raw = await redis.get(SESSION_KEY_PREFIX + str(account_id))
    return raw.decode() if isinstance(raw, bytes) else raw


# --- rule 9 for persons ---

MSG_NOT_BOUND = "该微信账号尚未完成实名认证，请先在小程序中完成实名绑定"
MSG_NOT_POST = (
    "您不是任何项目的岗位人员，不能登录项目端。个人扫码登录仅限施工许可证上的项目经理、"
    "总监理工程师，或由企业、项目经理、总监添加的岗位人员；如有疑问请联系所在企业添加岗位信息。"
)


def _post_label(code: str) -> str:
    """The Chinese label of a post code."""
    try:
        return POST_LABELS[Post(code)]
    except ValueError:
        return code


async def post_personnel_projects(person_id: int) -> list[dict[str, Any]]:
    """Projects where the person is post personnel: named on the permit or an added active post."""
    posts: dict[int, set[str]] = {}
    for held in await held_posts(person_id):
        posts.setdefault(held.project_id, set()).add(held.post)
    projects = await Project.filter(id__in=list(posts)).order_by("code")
    return [
        {
            "code": p.code,
            "name": p.name,
            "posts": [{"code": c, "label": _post_label(c)} for c in sorted(posts[p.id])],
        }
        for p in projects
    ]


async def require_post_personnel(principal: Principal) -> list[dict[str, Any]]:
    """Rule 9 for personal sign-in: the post-personnel projects, or Forbidden with the reason."""
    if principal.kind != AccountKind.PERSON:
        raise Forbidden("请使用小程序扫码", code=E.WRONG_ACCOUNT_KIND.code)
    if not principal.person_id:
        raise Forbidden(MSG_NOT_BOUND, code=E.NOT_BOUND.code)
    projects = await post_personnel_projects(principal.person_id)
    if not projects:
        raise Forbidden(MSG_NOT_POST, code=E.NOT_POST_PERSONNEL.code)
    return projects


# --- QR sign-in tickets ---

QR_PREFIX = "qr:t:"
QR_TICKET_TTL = 120  # seconds a ticket can be scanned and confirmed
QR_GRACE = 60  # how long an expired ticket still answers "expired" rather than "invalid"
QR_POLL_INTERVAL = 0.3

PENDING, SCANNED, CONFIRMED, CANCELLED, EXPIRED = (
    "pending",
    "scanned",
    "confirmed",
    "cancelled",
    "expired",
)
FINAL_STATES = frozenset({CONFIRMED, CANCELLED, EXPIRED})
STATUS_MESSAGES = {
    PENDING: "请使用微信小程序扫描二维码",
    SCANNED: "已扫码，请在手机上确认登录",
    CONFIRMED: "登录成功",
    CANCELLED: "已取消登录，请刷新二维码",
    EXPIRED: "二维码已过期，请刷新二维码",
}
_DELETE = object()


def _invalid() -> NotFound:
    """The error for a missing, finished-and-gone or foreign ticket."""
    return NotFound(
        "二维码不存在或已失效，请刷新二维码", code=E.TICKET_INVALID.code, field="ticket"
    )


def _hash(secret: str) -> str:
    """The stored digest of a ticket secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _decode(raw: dict[Any, Any]) -> dict[str, str]:
    """A Redis hash with bytes keys and values as str."""
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }


def _effective(data: dict[str, str], now: float | None = None) -> str:
    """The ticket's status, with an unfinished ticket past its deadline reported as expired."""
    status = data.get("status", "")
    now = time.time() if now is None else now
    if status in (PENDING, SCANNED) and now >= float(data.get("expires_at", 0)):
        return EXPIRED
    return status


def _check_ticket_id(ticket: str) -> str:
    """Refuse ticket ids that cannot be ours (before touching Redis)."""
    if not ticket or len(ticket) > 32 or not all(c.isalnum() or c in "-_" for c in ticket):
        raise _invalid()
    return ticket


async def _update(
    redis: aredis.Redis, ticket: str, change: Callable[[dict[str, str]], Any]
) -> tuple[dict[str, str], Any]:
    """Read-check-write one ticket atomically (WATCH/MULTI); `change` returns fields or _DELETE."""
    key = QR_PREFIX + _check_ticket_id(ticket)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                data = _decode(await pipe.hgetall(key))
                if not data:
                    raise _invalid()
                changes = change(data)
                if changes is None:
                    return data, None
                pipe.multi()
                if changes is _DELETE:
                    pipe.delete(key)
                else:
                    pipe.hset(key, mapping=changes)
                await pipe.execute()
                return data, changes
            except WatchError:
                continue


async def create_ticket(redis: aredis.Redis, ip: str, user_agent: str = "") -> dict[str, Any]:
    """A new pending ticket: its id (the QR scene) and the web's secret to collect the result.

    The requesting browser's address and user agent are kept so the phone can show who asks.
    """
    ticket = secrets.token_urlsafe(16)  # 22 characters: fits WeChat's 32-character scene
    secret = secrets.token_urlsafe(24)
    now = time.time()
    key = QR_PREFIX + ticket
    await redis.hset(
        key,
        mapping={
            "status": PENDING,
            "secret": _hash(secret),
            "created_at": f"{now:.3f}",
            "expires_at": f"{now + QR_TICKET_TTL:.3f}",
            "ip": ip[:64],
            "ua": "".join(c for c in user_agent[:UA_MAX] if c.isprintable()),
        },
    )
    await redis.expire(key, QR_TICKET_TTL + QR_GRACE)
    return {
        "ticket": ticket,
        "secret": secret,
        "status": PENDING,
        "expires_in": QR_TICKET_TTL,
        "message": STATUS_MESSAGES[PENDING],
    }


def _web_view(ticket: str, data: dict[str, str], status: str) -> dict[str, Any]:
    """The ticket as shown to the web page."""
    view: dict[str, Any] = {
        "ticket": ticket,
        "status": status,
        "message": data.get("message") or STATUS_MESSAGES[status],
    }
    if status in (PENDING, SCANNED):
        view["expires_in"] = max(0, int(float(data["expires_at"]) - time.time()))
    if data.get("reason") and status == CANCELLED:
        view["reason"] = data["reason"]
    return view


async def web_poll(
    redis: aredis.Redis, ticket: str, secret: str | None, *, ip: str, ttl: int
) -> dict[str, Any]:
    """The ticket as the web sees it; a confirmed ticket is consumed here and yields the session."""

    def take(data: dict[str, str]) -> Any:
        """Check the secret; consume a confirmed ticket."""
        if not secret or not hmac.compare_digest(data.get("secret", ""), _hash(secret)):
            raise _invalid()
        return _DELETE if _effective(data) == CONFIRMED else None

    data, consumed = await _update(redis, ticket, take)
    status = _effective(data)
    view = _web_view(ticket, data, status)
    if consumed is _DELETE:
        principal = Principal.from_json(data["principal"])
        token = await identity.issue_token(redis, principal, ttl)
        await audit.record("signin.qr", principal=principal, target=ticket[:8], ip=ip)
        view.update(SignIn(token, principal, ttl).to_dict())
    return view


async def web_wait(
    redis: aredis.Redis,
    ticket: str,
    secret: str | None,
    *,
    known: str | None,
    timeout: float,
    ip: str,
    ttl: int,
) -> dict[str, Any]:
    """Long-poll: the ticket's view once its status differs from `known`, or after `timeout`."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        view = await web_poll(redis, ticket, secret, ip=ip, ttl=ttl)
        if view["status"] != known or view["status"] in FINAL_STATES:
            return view
        if time.monotonic() >= deadline:
            return view
        await asyncio.sleep(min(QR_POLL_INTERVAL, max(0.0, deadline - time.monotonic())))


def _refuse_finished(status: str) -> None:
    """Raise for a ticket that is expired, confirmed or cancelled."""
    if status == EXPIRED:
        raise AppError(
            "二维码已过期，请在网页上刷新二维码后重新扫码",
            code=E.TICKET_EXPIRED.code,
            status=410,
            field="ticket",
        )
    if status in (CONFIRMED, CANCELLED):
        raise Conflict(
            "该二维码已使用，请在网页上刷新二维码后重新扫码",
            code=E.TICKET_USED.code,
            field="ticket",
        )


# --- who asks: what the phone shows before anyone confirms (QRLJacking) ---

UA_MAX = 256
UNKNOWN_REGION = "未知"
MSG_CHECK_REQUESTER = (
    "请核对发起登录的电脑的地点和时间；如不是您本人刚刚在电脑上打开的登录页面，请点击【取消】，"
    "切勿确认他人发来的二维码"
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_ip_regions(spec: str) -> tuple[tuple[IpNetwork, str], ...]:
    """``IP_REGIONS`` (``CIDR=region code`` pairs) as networks, most specific first."""
    table: list[tuple[IpNetwork, str]] = []
    for item in spec.replace(",", " ").split():
        cidr, _, code = item.partition("=")
        table.append((ipaddress.ip_network(cidr, strict=False), code))
    return tuple(sorted(table, key=lambda row: -row[0].prefixlen))


def region_code_of(ip: str, spec: str) -> str | None:
    """The region code the operators' table gives an address, or None."""
    addr = identity.parse_ip(ip)
    if addr is None:
        return None
    for net, code in parse_ip_regions(spec):
        if addr.version == net.version and addr in net:
            return code
    return None


def same_network(a: str, b: str) -> bool:
    """Whether two addresses share a network (/24 for IPv4, /64 for IPv6)."""
    x, y = identity.parse_ip(a), identity.parse_ip(b)
    if x is None or y is None or x.version != y.version:
        return a == b
    prefix = 24 if x.version == 4 else 64
    return y in ipaddress.ip_network(f"{x}/{prefix}", strict=False)


_BROWSERS = (
    ("MicroMessenger/", "微信内置浏览器"),
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("QQBrowser/", "QQ浏览器"),
    ("UCBrowser/", "UC浏览器"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("Windows NT", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(ua: str) -> str:
    """A short label of a user agent for people: ``Chrome 131 · Windows``, or 未知."""
    browser = ""
    for marker, label in _BROWSERS:
        if marker in ua:
            version = ua.split(marker, 1)[1].split(".", 1)[0].split(" ", 1)[0]
            browser = f"{label} {version}" if version.isdigit() else label
            break
    system = next((label for marker, label in _SYSTEMS if marker in ua), "")
    return " · ".join(p for p in (browser, system) if p) or (UNKNOWN_REGION if not ua else "其他")


async def requester_view(
    data: dict[str, str], *, phone_ip: str, ip_regions: str, tz: str
) -> dict[str, Any]:
    """Who asked for the ticket, as the mini-program's confirm screen shows it."""
    from services.regions import region_path

    ip = data.get("ip", "")
    code = region_code_of(ip, ip_regions)
    path = await region_path(code) if code else ""
    moment = dt.datetime.fromtimestamp(float(data.get("created_at", 0)), dt.UTC)
    try:
        local = moment.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(ZoneInfo("Asia/Shanghai"))
    ua = data.get("ua", "")
    return {
        "ip": ip,
        "region": path.replace("/", "") if path else UNKNOWN_REGION,
        "region_code": code,
        "user_agent": ua,
        "browser": describe_user_agent(ua),
        "requested_at": local.isoformat(timespec="seconds"),
        "requested_at_text": local.strftime("%Y-%m-%d %H:%M:%S"),
        "same_network": same_network(ip, phone_ip),
    }


@dataclass(frozen=True)
class Phone:
    """Where a mini-program's QR step comes from (its IP), and what it is shown of the browser
    that asked: its region by the IP→region table, its time in the platform's zone."""

    ip: str
    ip_regions: str = ""
    tz: str = "Asia/Shanghai"

    async def requester(self, data: dict[str, str]) -> dict[str, Any]:
        """``requester_view`` of the ticket's data for this phone."""
        return await requester_view(data, phone_ip=self.ip, ip_regions=self.ip_regions, tz=self.tz)


async def scan(
    redis: aredis.Redis, ticket: str, principal: Principal, phone: Phone
) -> dict[str, Any]:
    """The mini-program scanned the web QR code: pending → scanned (by this account).

    The reply carries who asked (`requester`: browser IP, region, user agent, time), so the
    person can refuse a code someone else sent them (QRLJacking)."""
    if principal.kind != AccountKind.PERSON:
        raise Forbidden("请使用小程序扫码", code=E.WRONG_ACCOUNT_KIND.code)
    if not principal.person_id:
        raise Forbidden(MSG_NOT_BOUND, code=E.NOT_BOUND.code)
    me = str(principal.account_id)

    def mark(data: dict[str, str]) -> Any:
        """pending → scanned by this account (idempotent for the same one)."""
        status = _effective(data)
        _refuse_finished(status)
        if status == SCANNED and data.get("account_id") != me:
            raise _taken()
        return {"status": SCANNED, "account_id": me}

    data, _ = await _update(redis, ticket, mark)
    projects = await post_personnel_projects(principal.person_id)
    requester = await phone.requester(data)
    await audit.record(
        "signin.qr_scanned",
        principal=principal,
        target=ticket[:8],
        ip=phone.ip,
        detail={"requester_ip": requester["ip"], "same_network": requester["same_network"]},
    )
    reply: dict[str, Any] = {
        "ticket": ticket,
        "status": SCANNED,
        "can_confirm": bool(projects),
        "projects": projects,
        "requester": requester,
        "notice": MSG_CHECK_REQUESTER,
    }
    if not projects:
        reply.update(reason="not_post_personnel", message=MSG_NOT_POST)
    return reply


def _taken() -> Conflict:
    """The ticket was scanned by another account."""
    return Conflict(
        "该二维码已被其他微信扫描，请刷新二维码", code=E.TICKET_TAKEN.code, field="ticket"
    )


def _mine_scanned(data: dict[str, str], me: str) -> None:
    """Check the ticket is live and scanned by account `me`."""
    status = _effective(data)
    _refuse_finished(status)
    if status == PENDING:
        raise Conflict("请先扫描二维码", code=E.TICKET_NOT_SCANNED.code, field="ticket")
    if data.get("account_id") != me:
        raise _taken()


async def confirm(
    redis: aredis.Redis, ticket: str, principal: Principal, phone: Phone
) -> dict[str, Any]:
    """The scanning post person confirms: scanned → confirmed; others cancel it with the reason.

    A confirmation from another network than the requesting browser's is flagged in the audit
    log (`network_mismatch`), for the officer reviewing sign-ins."""
    me = str(principal.account_id)
    account = await Account.get_or_none(id=principal.account_id)
    if account is None or not account.is_active:
        raise Forbidden("该微信账号不可用", code=E.ACCOUNT_DISABLED.code)
    fresh = identity.principal_for_account(account)  # bindings may have changed since login
    refusal: Forbidden | None = None
    try:
        await require_post_personnel(fresh)
    except Forbidden as exc:
        refusal = exc
    if refusal is not None:
        reason, message = refusal.code, refusal.message

        def refuse(data: dict[str, str]) -> Any:
            """scanned → cancelled with the rule-9 reason."""
            _mine_scanned(data, me)
            return {"status": CANCELLED, "reason": reason, "message": message}

        await _update(redis, ticket, refuse)
        await audit.record(
            "signin.qr_refused",
            principal=fresh,
            target=ticket[:8],
            ip=phone.ip,
            detail={"reason": reason},
        )
        raise refusal

    def accept(data: dict[str, str]) -> Any:
        """scanned → confirmed, remembering who signs in."""
        _mine_scanned(data, me)
        return {"status": CONFIRMED, "principal": fresh.to_json()}

    data, _ = await _update(redis, ticket, accept)
    requester = await phone.requester(data)
    await audit.record(
        "signin.qr_confirmed",
        principal=fresh,
        target=ticket[:8],
        ip=phone.ip,
        detail={
            "requester_ip": requester["ip"],
            "requester_region": requester["region"],
            "network_mismatch": not requester["same_network"],
        },
    )
    return {
        "ticket": ticket,
        "status": CONFIRMED,
        "message": "已确认，网页端正在登录",
        "requester": requester,
    }


async def cancel(redis: aredis.Redis, ticket: str, principal: Principal, ip: str) -> dict[str, Any]:
    """The scanning person declines: scanned → cancelled."""
    me = str(principal.account_id)

    def drop(data: dict[str, str]) -> Any:
        """scanned → cancelled by the user."""
        _mine_scanned(data, me)
        return {"status": CANCELLED, "reason": "cancelled_by_user"}

    await _update(redis, ticket, drop)
    await audit.record("signin.qr_cancelled", principal=principal, target=ticket[:8], ip=ip)
    return {"ticket": ticket, "status": CANCELLED, "message": STATUS_MESSAGES[CANCELLED]}
