"""Identity: opaque bearer tokens in Redis, principals, and the one project authorisation check.

Every admin handler goes through `project_access`: a company sees only the projects it takes part
in; a person sees only what their post on that project allows; a regulator sees projects of
their region.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import redis.asyncio as aredis

from models import (
    Account,
    AccountKind,
    ParticipatingUnit,
    Post,
    Project,
    ProjectMember,
    UnitRole,
    WorkStatus,
)
from realname import error_codes as E
from realname.errors import NotAuthenticated, NotFound
from services.held_posts import held_posts
from services.scope import (
    MANAGE,
    REVIEW,
    VIEW,
    VIEW_PII,
    ProjectAccess,
    row_scope,
)

TOKEN_PREFIX = "auth:tok:"
ACCOUNT_TOKENS_PREFIX = "auth:acct:"


@dataclass
class Principal:
    """Who is calling: the account and what it stands for."""

    kind: str  # enterprise | person | regulator | operator
    account_id: int
    display_name: str = ""
    enterprise_id: int | None = None
    person_id: int | None = None
    region_code: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Principal:
        return cls(**json.loads(raw))

    @property
    def actor(self) -> str:
        """A short label for the audit log."""
        return f"{self.kind}:{self.account_id}"


def _token_key(token: str) -> str:
    return TOKEN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


async def issue_token(redis: aredis.Redis, principal: Principal, ttl_seconds: int) -> str:
    """Create an opaque bearer token for a principal; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    key = _token_key(token)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, principal.to_json(), ex=ttl_seconds)
        pipe.sadd(ACCOUNT_TOKENS_PREFIX + str(principal.account_id), key)
        pipe.expire(ACCOUNT_TOKENS_PREFIX + str(principal.account_id), ttl_seconds)
        await pipe.execute()
    return token


async def resolve_token(redis: aredis.Redis, token: str | None) -> Principal:
    """The principal behind a token, or NotAuthenticated."""
    if not token:
        raise NotAuthenticated()
    raw = await redis.get(_token_key(token))
    if raw is None:
        raise NotAuthenticated(code=E.TOKEN_INVALID.code)
    return Principal.from_json(raw)


async def revoke_token(redis: aredis.Redis, token: str) -> None:
    """Sign one token out."""
    await redis.delete(_token_key(token))


async def revoke_account(redis: aredis.Redis, account_id: int) -> int:
    """Sign every token of an account out; return how many were live."""
    set_key = ACCOUNT_TOKENS_PREFIX + str(account_id)
    keys = await redis.smembers(set_key)
    removed = await redis.delete(*keys) if keys else 0
    await redis.delete(set_key)
    return int(removed)


def principal_for_account(account: Account) -> Principal:
    """Build the principal of an account row."""
    return Principal(
        kind=account.kind.value if hasattr(account.kind, "value") else str(account.kind),
        account_id=account.id,
        display_name=account.display_name,
        enterprise_id=account.enterprise_id,
        person_id=account.person_id,
        region_code=account.region_id,
    )


# --- project authorisation -----------------------------------------------------------------------

_ENTERPRISE_CAPS = {
    UnitRole.GENERAL_CONTRACTOR: {VIEW, MANAGE, VIEW_PII},
    UnitRole.LABOUR_SUB: {VIEW, MANAGE, VIEW_PII},
    UnitRole.SPECIALTY_SUB: {VIEW, MANAGE, VIEW_PII},
    UnitRole.BUILDER: {VIEW, MANAGE},
    UnitRole.SUPERVISOR: {VIEW, MANAGE},
}
_POST_CAPS = {
    Post.PROJECT_MANAGER: {VIEW, MANAGE, VIEW_PII},
    Post.DEPUTY_PROJECT_MANAGER: {VIEW, MANAGE},
    Post.LABOUR_OFFICER: {VIEW, MANAGE, VIEW_PII},
    Post.CHIEF_SUPERVISOR: {VIEW, MANAGE},
    Post.DEPUTY_CHIEF_SUPERVISOR: {VIEW},
}


def _post_caps(post: str) -> set[str]:
    try:
        return _POST_CAPS.get(Post(post), {VIEW})
    except ValueError:
        return {VIEW}


def region_covers(region_code: str, target_code: str, level: str) -> bool:
    """Whether a regulator's region contains a project's region (6-digit division codes)."""
    if level == "province":
        return target_code[:2] == region_code[:2]
    if level == "city":
        return target_code[:4] == region_code[:4]
    return target_code == region_code


async def compute_access(principal: Principal, project: Project) -> ProjectAccess:
    """Work out what the principal may do on the project, and which rows it sees (no exception)."""
    access = ProjectAccess(project=project, principal=principal)
    roles: set[str] = set()  # responsibility roles of the units of the caller's posts
    key_roles: set[str] = set()  # the unit roles of posts named on the construction permit
    if principal.kind == AccountKind.OPERATOR:
        access.caps = {VIEW, MANAGE, VIEW_PII, REVIEW}
    elif principal.kind == AccountKind.ENTERPRISE and principal.enterprise_id:
        units = await ParticipatingUnit.filter(
            project_id=project.id, enterprise_id=principal.enterprise_id
        )
        for unit in units:
            access.unit_ids.add(unit.id)
            access.unit_roles.add(str(unit.role))
            access.caps |= _ENTERPRISE_CAPS.get(UnitRole(unit.role), {VIEW})
    elif principal.kind == AccountKind.PERSON and principal.person_id:
        access.member_ids.update(
            cast(
                list[int],
                await ProjectMember.filter(
                    project_id=project.id,
                    person_id=principal.person_id,
                    work_status=WorkStatus.ACTIVE,
                ).values_list("id", flat=True),
            )
        )
        for held in await held_posts(principal.person_id, project.id):
            access.posts.add(held.post)
            access.caps |= _post_caps(held.post)
            if held.on_permit:
                if held.unit_role:
                    key_roles.add(held.unit_role)
            elif held.unit_id is not None and held.unit_role:
                access.unit_ids.add(held.unit_id)
                roles.add(held.unit_role)
    elif principal.kind == AccountKind.REGULATOR and principal.region_code:
        from models import Region

        region = await Region.get_or_none(code=principal.region_code)
        if region and region_covers(region.code, project.region_id, str(region.level)):
            access.caps = {VIEW, REVIEW}
    if access.caps:
        access.scope = await row_scope(access, roles | access.unit_roles, key_roles)
    return access


async def project_access(principal: Principal, project_code: str, cap: str = VIEW) -> ProjectAccess:
    """Load a project by code and check the caller holds `cap` on it (the one authorisation check).

    A project the caller has no standing on is reported as not found, so codes cannot be probed.
    """
    project = await Project.get_or_none(code=project_code)
    if project is None:
        raise NotFound(code=E.PROJECT_NOT_FOUND.code)
    access = await compute_access(principal, project)
    if not access.caps:
        raise NotFound("项目不存在或您不是该项目的参建单位/岗位人员", code=E.PROJECT_NOT_FOUND.code)
    return access.require(cap)


async def accessible_projects(principal: Principal) -> list[Project]:
    """The projects a principal can open (for the project switcher): where `compute_access`
    grants it standing."""
    if principal.kind == AccountKind.OPERATOR:
        return await Project.all().order_by("code")
    if principal.kind == AccountKind.ENTERPRISE and principal.enterprise_id:
        ids = await ParticipatingUnit.filter(enterprise_id=principal.enterprise_id).values_list(
            "project_id", flat=True
        )
        # any participating unit gives the company standing (compute_access)
        return await Project.filter(id__in=list(ids)).order_by("code")
    if principal.kind == AccountKind.PERSON and principal.person_id:
        project_ids: set[int] = set(
            cast(
                list[int],
                await ProjectMember.filter(
                    person_id=principal.person_id, work_status=WorkStatus.ACTIVE
                ).values_list("project_id", flat=True),
            )
        )
        project_ids |= {held.project_id for held in await held_posts(principal.person_id)}
        return await _openable(principal, project_ids)
    if principal.kind == AccountKind.REGULATOR and principal.region_code:
        from models import Region

        region = await Region.get_or_none(code=principal.region_code)
        if region is None:
            return []
        prefix = {"province": 2, "city": 4}.get(str(region.level), 6)
        return await Project.filter(region_id__startswith=region.code[:prefix]).order_by("code")
    return []


async def _openable(principal: Principal, project_ids: set[int]) -> list[Project]:
    """The projects among `project_ids` the principal has standing on (a worker's own project,
    where it holds no post, is not one: it could not open it)."""
    projects = await Project.filter(id__in=sorted(project_ids)).order_by("code")
    return [p for p in projects if (await compute_access(principal, p)).caps]


# --- the caller's address ------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNIX_PEER = "unix"  # TRUSTED_PROXIES entry trusting a proxy connected over a UNIX socket


@lru_cache(maxsize=16)
def parse_trusted_proxies(spec: str) -> tuple[tuple[Network, ...], bool]:
    """``TRUSTED_PROXIES`` as networks, plus whether UNIX-socket peers are trusted.

    Entries are addresses or CIDRs (``10.0.0.5``, ``10.0.0.0/8``, ``::1``) or ``unix``, separated
    by commas or spaces. Raises ValueError naming a bad entry.
    """
    networks: list[Network] = []
    unix = False
    for item in spec.replace(",", " ").split():
        if item.lower() == UNIX_PEER:
            unix = True
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an address or CIDR: {item!r}") from exc
    return tuple(networks), unix


def parse_ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address from a header or socket value (brackets, IPv4-mapped IPv6 handled), or None."""
    text = (value or "").strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6] or [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: tuple[Network, ...]
) -> bool:
    return any(addr.version == net.version and addr in net for net in nets)


@lru_cache(maxsize=4096)
def _peer(peer: str | None, trusted_proxies: str) -> tuple[bool, str]:
    """Whether the socket peer is a trusted proxy, and its address as text. The same peers
    connect again and again (the proxy, terminals behind one site's router): parsed once each
    (it was ~2 % of a signed punch's worker CPU, issue 13)."""
    nets, trust_unix = parse_trusted_proxies(trusted_proxies)
    peer_addr = parse_ip(peer)
    if peer_addr is None:  # no IP peer: a UNIX socket (or a test transport without one)
        return trust_unix, peer or ""
    return _trusted(peer_addr, nets), str(peer_addr)


def client_ip(
    headers: Any,
    peer: str | None,
    trusted_proxies: str = "",
    real_ip_header: str = "x-forwarded-for",
) -> str:
    """The caller's address: the socket peer, unless that peer is a trusted proxy.

    Forwarding headers are believed only when the connection comes from an address listed in
    ``TRUSTED_PROXIES``. With ``X-Forwarded-For`` the list is walked from the right (the entry
    appended by our own proxy) past every trusted hop; the first untrusted address is the client,
    so entries a client wrote itself on the left are never taken. With ``X-Real-IP`` (one value
    set by the proxy) that value is taken. Anything unparsable falls back to the last trusted hop.
    """
    peer_trusted, fallback = _peer(peer, trusted_proxies)
    if not peer_trusted or headers is None:
        return fallback
    nets, _ = parse_trusted_proxies(trusted_proxies)
    header = real_ip_header.lower()
    if header != "x-forwarded-for":
        value = headers.get(header)
        addr = parse_ip(value.split(",")[-1] if value else None)
        return str(addr) if addr is not None else fallback
    getall = getattr(headers, "getall", None)
    values = getall(header, []) if getall else [headers.get(header) or ""]
    hops = [h.strip() for v in values for h in str(v).split(",") if h.strip()]
    for hop in reversed(hops):
        addr = parse_ip(hop)
        if addr is None:
            return fallback
        fallback = str(addr)
        if not _trusted(addr, nets):
            return fallback
    return fallback
