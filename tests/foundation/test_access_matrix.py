"""The authorisation matrix, generated from the router: every declared route × every principal.

A cell whose principal the route's declaration admits must not be refused by the access layer
(it answers 2xx or another 4xx — a 404 for the placeholder ids, a 422 for the empty body, a
business rule's 403); every other cell must be refused: 401, or 403/404 with an access code
(``project_not_found`` hides projects the caller has no standing on).
No cell may answer 5xx. Each route gets a fresh world, so one cell's side effects (a logout, an
unbind) cannot colour the next.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from models import Account, AccountKind, PersonType, Post
from models.binding import BindingMethod, WeChatBinding
from realname.contract import INT_MAX, Endpoint, declaration, is_provincial
from services import devices as device_service
from services import identity
from tests.devices.helpers import make_device
from tests.factories import (
    auth,
    enterprise_token,
    make_enterprise,
    make_member,
    make_person,
    make_project,
    regulator_token,
    token_for,
)
from tests.foundation.test_contract import handler_of, surface_routes
from tests.suite import uid

PRINCIPALS = (
    "anonymous",
    "unbound_wechat",
    "worker",
    "post_person_other_project",
    "enterprise_a",
    "enterprise_b",
    "regulator_other_region",
    "device",
)
# What the access layer answers when it refuses (a 403 with another code is a business rule of
# an admitted caller: a wrong ticket, a terminal of the wrong kind, not your turn to approve...).
REFUSALS = {
    "not_authenticated",
    "token_invalid",
    "wrong_account_kind",
    "forbidden",
    "project_forbidden",
    "project_not_found",
    "not_bound",
    "bad_signature",
    "device_unknown",
}


@dataclass
class Caller:
    name: str
    principal: identity.Principal | None = None
    caps: set[str] = field(default_factory=set)  # on the world's project
    headers: dict[str, str] = field(default_factory=dict)
    device: Any = None


async def callers(redis: Any) -> tuple[str, dict[str, Caller]]:
    """A fresh project and one caller of each kind (tokens made directly)."""
    world = await make_project(region="630102")
    other = await make_project(region="630102")
    worker, _, _ = await make_person()
    await make_member(world, person=worker)
    post_person, _, _ = await make_person()
    await make_member(
        other, person=post_person, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER
    )
    # WeChat users as the mini-program signs them in: an account with an openid, bound or not
    unbound, bound_worker, bound_post = [
        await Account.create(
            kind=AccountKind.PERSON, person=p, wechat_openid=uid("o"), display_name=uid("微信")
        )
        for p in (None, worker, post_person)
    ]
    for account, person in ((bound_worker, worker), (bound_post, post_person)):
        await WeChatBinding.create(account=account, person=person, method=BindingMethod.PHONE)
    tokens = {
        "unbound_wechat": await token_for(redis, unbound),
        "worker": await token_for(redis, bound_worker),
        "post_person_other_project": await token_for(redis, bound_post),
        "enterprise_a": await enterprise_token(redis, world.enterprises["gc"]),
        "enterprise_b": await enterprise_token(redis, await make_enterprise()),
        "regulator_other_region": await regulator_token(redis, "632800"),
    }
    out = {"anonymous": Caller("anonymous")}
    for name, token in tokens.items():
        principal = await identity.resolve_token(redis, token)
        access = await identity.compute_access(principal, world.project)
        out[name] = Caller(name, principal, set(access.caps), auth(token))
    out["device"] = Caller("device", device=await make_device(world))
    return world.project.code, out


def admitted(decl: Endpoint, caller: Caller) -> bool:
    """Whether the declaration lets this caller through (the expected matrix cell)."""
    for rule in decl.access.rules:
        if rule.public:
            return True
        if rule.device:
            if caller.device is not None:
                return True
            continue
        if rule.signed_url:
            continue  # no caller here holds a URL the platform signed
        p = caller.principal
        if p is None or (rule.kinds and p.kind not in rule.kinds):
            continue
        if rule.bound and p.kind == AccountKind.PERSON and not p.person_id:
            continue
        if rule.provincial and not is_provincial(p):
            continue
        if rule.cap is None or rule.cap in caller.caps:
            return True
    return False


def concrete(path: str, code: str) -> str:
    """The route path with placeholder values: the world's project, ids no row has."""

    def value(m: re.Match[str]) -> str:
        name, kind = m.group(1), (m.group(2) or ":str")[1:]
        if name == "code":
            return code
        return str(INT_MAX) if kind == "int" else "zz-none"

    return "/" + re.sub(r"<(\w+)(:[^>]*)?>", value, path)


def declared_routes(app: Any) -> list[tuple[str, str, Endpoint]]:
    """Every declared (method, path), sorted: the router's own order depends on the process's
    string hashing (PYTHONHASHSEED), so unsorted, a slice such as ``[100]`` held other routes, in
    another order, in every run, and a failing case could not be run again as it failed."""
    rows = []
    for route in surface_routes(app):
        decl = declaration(handler_of(route))
        if decl is None or route.extra.websocket:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            rows.append((method, route.path, decl))
    return sorted(rows, key=lambda row: (row[1], row[0]))


async def send(client: Any, caller: Caller, method: str, url: str) -> Any:
    body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
    headers = {"content-type": "application/json", **caller.headers}
    if caller.device is not None:
        dev = caller.device
        headers.update(device_service.signed_headers(dev.sn, dev.secret, method, url, body))
    return await client.request(method, url, content=body, headers=headers)


async def test_matrix_covers_the_declared_routes(app):
    rows = declared_routes(app)
    assert 60 <= len(rows) <= SLICES[-1] + SLICE  # every row falls in a slice below
    paths = {p for _, p, _ in rows}
    assert "admin/v1/devices/unregistered" in paths and "admin/v1/firmware" in paths


SLICE = 20
SLICES = range(0, 300, SLICE)


@pytest.mark.parametrize("index", SLICES)
async def test_authorisation_matrix(app, client, redis, index):
    rows = declared_routes(app)[index : index + SLICE]
    if not rows:
        pytest.skip("fewer declared routes than this slice")
    wrong = []
    for method, path, decl in rows:
        code, who = await callers(redis)
        url = concrete(path, code)
        for name in PRINCIPALS:
            caller = who[name]
            r = await send(client, caller, method, url)
            try:
                reply = r.json()
            except (ValueError, json.JSONDecodeError):
                reply = {}
            err = reply.get("code") if isinstance(reply, dict) else None
            refused = r.status_code == 401 or (r.status_code in (403, 404) and err in REFUSALS)
            cell = f"{method} {url} as {name}: {r.status_code} {err}"
            if r.status_code >= 500:
                wrong.append(f"{cell} (server error)")
            elif admitted(decl, caller) and refused:
                wrong.append(f"{cell} (declared {decl.access.describe()}, refused)")
            elif not admitted(decl, caller) and not refused:
                wrong.append(f"{cell} (declared {decl.access.describe()}, let through)")
    assert not wrong, "\n".join(wrong)
