"""Real-name binding (实名绑定): one WeChat account ↔ one enrolled person.

A WeChat user names themselves (name + ID number). When the phone WeChat vouches for
(getPhoneNumber) matches the phone recorded at enrolment, the binding is made at once; otherwise
a `BindingRequest` waits for the labour officer of one of the person's projects. Binding and
unbinding revoke the account's tokens (a token carries the person it stood for) and are audited.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aredis
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, AccountKind, Person, ProjectMember, WorkStatus
from models.binding import (
    BINDING_STATUS_LABELS,
    BindingMethod,
    BindingRequest,
    BindingRequestStatus,
    WeChatBinding,
)
from realname import error_codes as E
from realname.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationError,
    require,
)
from services import audit, identity, localtime, pii, ratelimit
from services.identity import Principal, ProjectAccess

MSG_NO_MATCH = (
    "未能核验您的实名信息。请核对姓名和身份证号；如尚未在项目采集机完成采集登记，请先登记；"
    "如该实名信息已绑定其他微信或登记的手机号已更换，请联系项目劳务员处理"
)
MSG_PERSON_TAKEN = (
    "该实名信息已绑定其他微信账号；如需更换微信，请先在原微信中解除绑定或联系项目劳务员"
)


async def _person_account(account_id: int) -> Account:
    """The caller's WeChat person account, or Forbidden."""
    account = await Account.get_or_none(id=account_id)
    if account is None or account.kind != AccountKind.PERSON or not account.wechat_openid:
        raise Forbidden("请使用微信小程序进行实名绑定", code=E.WRONG_ACCOUNT_KIND.code)
    return account


async def _active_project_ids(person_id: int) -> list[int]:
    """Projects where the person is an active member."""
    return cast(
        list[int],
        await ProjectMember.filter(person_id=person_id, work_status=WorkStatus.ACTIVE).values_list(
            "project_id", flat=True
        ),
    )


def _request_view(req: BindingRequest) -> dict[str, Any]:
    """A binding request as shown to its applicant and the officer."""
    return {
        "id": req.id,
        "status": str(req.status),
        "status_label": BINDING_STATUS_LABELS[BindingRequestStatus(req.status)],
        "reason": req.reason,
        "decision_note": req.decision_note,
        "created_at": req.created_at,
        "decided_at": req.decided_at,
    }


async def binding_state(account_id: int) -> dict[str, Any]:
    """What the mini-program shows: the bound person (masked) or the latest binding request."""
    binding = await WeChatBinding.get_or_none(account_id=account_id).prefetch_related("person")
    if binding is not None:
        person = binding.person
        return {
            "bound": True,
            "method": str(binding.method),
            "bound_at": binding.bound_at,
            "person": {
                "name": person.name,
                "id_number_masked": person.id_number_masked,
                "phone_masked": person.phone_masked,
            },
        }
    latest = await BindingRequest.filter(account_id=account_id).order_by("-id").first()
    return {"bound": False, "request": _request_view(latest) if latest else None}


async def _bind(
    account: Account, person: Person, method: BindingMethod, request: BindingRequest | None = None
) -> WeChatBinding:
    """Create the binding and mirror it on the account, atomically; the DB enforces 1 ↔ 1."""
    try:
        async with in_transaction():
            binding = await WeChatBinding.create(
                account=account, person=person, method=method, request=request
            )
            account.person = person
            account.display_name = person.name
            await account.save(update_fields=["person_id", "display_name"])
            await (
                BindingRequest.filter(account_id=account.id, status=BindingRequestStatus.PENDING)
                .exclude(id=request.id if request else 0)
                .update(status=BindingRequestStatus.CANCELLED, decided_at=localtime.now())
            )
    except IntegrityError as exc:
        raise Conflict(MSG_PERSON_TAKEN, code=E.PERSON_ALREADY_BOUND.code) from exc
    return binding


class _NoMatch(NotFound):
    """Every mismatch answers the same 404; `reason` (audit only) says which one it was."""

    def __init__(self, reason: str) -> None:
        super().__init__(MSG_NO_MATCH, code=E.PERSON_NOT_MATCHED.code, field="id_number")
        self.reason = reason


async def request_binding(
    redis: aredis.Redis,
    wechat: Any,
    account_id: int,
    *,
    name: Any,
    id_number: Any,
    phone_code: Any,
    ip: str,
    ttl: int,
) -> dict[str, Any]:
    """Bind by name + ID number: WeChat phone = enrolled phone binds, else an officer decides.

    Nothing tells a stranger whether someone is enrolled: the phone code is redeemed with WeChat
    before any lookup, and an unknown ID number, a wrong name, a person bound to another WeChat
    account and a phone mismatch with no project to ask all get the same 404. Every attempt is
    audited (`binding.bound`, `binding.requested` or `binding.refused` with the reason) and
    limited per account, per IP and per person (the ID number asked for).
    """
    account = await _person_account(account_id)
    seen: dict[str, str] = {}
    try:
        return await _attempt(
            redis, wechat, account, name, id_number, phone_code, ip=ip, ttl=ttl, seen=seen
        )
    except AppError as exc:
        detail = {"reason": exc.reason if isinstance(exc, _NoMatch) else exc.code}
        if exc.field:
            detail["field"] = exc.field
        if isinstance(exc, RateLimited):
            detail["limit"] = str(exc.extra.get("limit", ""))
        await audit.record(
            "binding.refused",
            actor_kind="person",
            actor_id=str(account.id),
            target=seen.get("target", ""),
            ip=ip,
            detail=detail,
        )
        raise


async def _attempt(
    redis: aredis.Redis,
    wechat: Any,
    account: Account,
    name: Any,
    id_number: Any,
    phone_code: Any,
    *,
    ip: str,
    ttl: int,
    seen: dict[str, str],
) -> dict[str, Any]:
    """One binding attempt (see `request_binding`); `seen["target"]` names the person once found."""
    await ratelimit.hit(redis, ratelimit.BINDING, str(account.id))
    await ratelimit.hit(redis, ratelimit.BINDING_IP, ip)
    name = require(name if isinstance(name, str) else None, "name", "姓名")
    if len(name) > 64:
        raise ValidationError("姓名过长", code=E.INVALID_FIELD.code, field="name")
    number = pii.validate_id_number(id_number if isinstance(id_number, str) else None)
    code = require(
        phone_code if isinstance(phone_code, str) else None,
        "phone_code",
        "手机号授权（phone_code）",
    )
    if await WeChatBinding.exists(account_id=account.id):
        raise Conflict(
            "该微信账号已完成实名绑定，如需更换请先解除绑定", code=E.ACCOUNT_ALREADY_BOUND.code
        )
    cipher = pii.cipher()
    id_bidx = cipher.blind_index("id", number)
    # Per person: however many accounts and addresses guess at one ID number (keyed by its
    # blind index, so no ID number sits in Redis; counted whether or not it is enrolled).
    await ratelimit.hit(redis, ratelimit.BINDING_PERSON, id_bidx or number)
    # The phone first: a junk code fails here the same way for every name and ID number.
    phone = pii.validate_phone(await wechat.get_phone_number(code), field="phone_code")
    person = await Person.get_or_none(id_number_bidx=id_bidx)
    if person is None:
        raise _NoMatch("unknown_id_number")
    seen["target"] = f"person:{person.id}"
    if person.name != name:
        raise _NoMatch("wrong_name")
    phone_matches = bool(person.phone_bidx) and person.phone_bidx == cipher.blind_index(
        "phone", phone
    )
    if await WeChatBinding.exists(person_id=person.id):
        if not phone_matches:
            raise _NoMatch("person_bound_elsewhere")
        # The caller proved the enrolled phone: they may know the person is bound elsewhere.
        raise Conflict(MSG_PERSON_TAKEN, code=E.PERSON_ALREADY_BOUND.code, field="id_number")
    if phone_matches:
        await _bind(account, person, BindingMethod.PHONE)
        await identity.revoke_account(redis, account.id)
        fresh = identity.principal_for_account(account)
        token = await identity.issue_token(redis, fresh, ttl)
        await audit.record(
            "binding.bound",
            principal=fresh,
            target=f"person:{person.id}",
            ip=ip,
            detail={"method": BindingMethod.PHONE.value},
        )
        state = await binding_state(account.id)
        return {**state, "status": "bound", "token": token, "message": "实名绑定成功"}
    # No match: a labour officer of one of the person's current projects decides.
    if not await _active_project_ids(person.id):
        raise _NoMatch("phone_mismatch_no_project")
    async with in_transaction():
        await BindingRequest.filter(
            account_id=account.id, status=BindingRequestStatus.PENDING
        ).update(status=BindingRequestStatus.CANCELLED, decided_at=localtime.now())
        req = await BindingRequest.create(
            account=account,
            person=person,
            wechat_phone_enc=cipher.encrypt(phone),
            wechat_phone_masked=pii.mask_phone(phone),
            reason="phone_mismatch" if person.phone_bidx else "no_phone_on_record",
        )
    await audit.record(
        "binding.requested",
        actor_kind="person",
        actor_id=str(account.id),
        target=f"person:{person.id}",
        ip=ip,
        detail={"request": req.id},
    )
    return {
        "bound": False,
        "status": "pending",
        "request": _request_view(req),
        "message": "微信手机号与采集登记的手机号不一致，已提交项目劳务员确认，请耐心等待",
    }


async def unbind(redis: aredis.Redis, principal: Principal, *, ip: str, ttl: int) -> dict[str, Any]:
    """Remove the caller's binding (audited); old tokens are revoked and a fresh one issued."""
    account = await _person_account(principal.account_id)
    binding = await WeChatBinding.get_or_none(account_id=account.id)
    if binding is None:
        raise Conflict("该微信账号尚未实名绑定", code=E.NOT_BOUND.code)
    person_id = binding.person_id
    async with in_transaction():
        await binding.delete()
        account.person = None
        account.display_name = "微信用户"
        await account.save(update_fields=["person_id", "display_name"])
    await identity.revoke_account(redis, account.id)
    fresh = identity.principal_for_account(account)
    token = await identity.issue_token(redis, fresh, ttl)
    await audit.record("binding.unbound", principal=principal, target=f"person:{person_id}", ip=ip)
    return {"bound": False, "token": token, "message": "已解除实名绑定"}


# --- the labour officer's side ---


async def requests_for_project(access: ProjectAccess, status: str | None = "pending") -> list[dict]:
    """Binding requests of persons currently on the project in the caller's row scope (for the
    labour officers)."""
    person_ids = await access.rows(
        ProjectMember.filter(project_id=access.project.id, work_status=WorkStatus.ACTIVE)
    ).values_list("person_id", flat=True)
    query = BindingRequest.filter(person_id__in=list(person_ids))
    if status:
        try:
            query = query.filter(status=BindingRequestStatus(status))
        except ValueError as exc:
            raise ValidationError(
                "状态应为 pending/approved/rejected/cancelled", field="status"
            ) from exc
    rows = []
    for req in await query.order_by("-id").prefetch_related("person"):
        rows.append(
            {
                **_request_view(req),
                "person": {
                    "name": req.person.name,
                    "id_number_masked": req.person.id_number_masked,
                    "enrolled_phone_masked": req.person.phone_masked,
                },
                "wechat_phone_masked": req.wechat_phone_masked,
            }
        )
    return rows


async def decide(
    redis: aredis.Redis,
    access: ProjectAccess,
    request_id: int,
    *,
    approve: bool,
    note: Any,
    ip: str,
) -> dict[str, Any]:
    """Approve or reject a pending binding request of a person on the project whose rows the
    caller sees."""
    project, principal = access.project, access.principal
    if note is not None and not isinstance(note, str):
        raise ValidationError("备注应为文字", field="note")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError("备注不能超过200字", field="note")
    if not approve and not note:
        raise ValidationError("请填写驳回原因", code=E.REQUIRED.code, field="note")
    req = await BindingRequest.get_or_none(id=request_id).prefetch_related("account", "person")
    on_project = (
        req is not None
        and await access.rows(
            ProjectMember.filter(
                project_id=project.id,
                person_id=req.person_id,
                work_status=WorkStatus.ACTIVE,
            )
        ).exists()
    )
    if req is None or not on_project:
        raise NotFound("绑定申请不存在", code=E.BINDING_REQUEST_NOT_FOUND.code)
    if req.status != BindingRequestStatus.PENDING:
        raise Conflict("该绑定申请已处理", code=E.BINDING_REQUEST_DECIDED.code)
    now = localtime.now()
    if approve:
        if await WeChatBinding.exists(account_id=req.account.id):
            raise Conflict("该微信账号已绑定其他实名信息", code=E.ACCOUNT_ALREADY_BOUND.code)
        await _bind(req.account, req.person, BindingMethod.OFFICER, request=req)
        # Tokens issued before carry no person: make the mini-program sign in again.
        await identity.revoke_account(redis, req.account.id)
    req.status = BindingRequestStatus.APPROVED if approve else BindingRequestStatus.REJECTED
    req.decided_by, req.decided_at, req.decision_note = principal.actor, now, note
    await req.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    await audit.record(
        "binding.approved" if approve else "binding.rejected",
        principal=principal,
        project_id=project.id,
        target=f"person:{req.person.id}",
        ip=ip,
        detail={"request": req.id},
    )
    return _request_view(req)
