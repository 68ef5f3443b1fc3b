"""Supplementary attendance (考勤补录, rule 7): filing, the approval chain, and the punches.

Only labour members. The chain is fixed when filed: GC labour officer (总包劳务员) → GC project
manager (总包项目经理) → chief supervising engineer or deputy (总监/总监代表); without a
supervision unit on the project, only the first two. Any node may reject, which ends the request;
the last approval creates punches with ``source=supplement`` and re-settles the day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from tortoise.transactions import in_transaction

from models import (
    AccountKind,
    Direction,
    ParticipatingUnit,
    PersonType,
    Post,
    Project,
    ProjectMember,
    Punch,
    PunchSource,
    PunchStatus,
    UnitRole,
)
from models.files import StoredFile
from models.supplement import (
    SUPPLEMENT_STATE_LABELS,
    SupplementRequest,
    SupplementState,
    SupplementStep,
)
from realname import error_codes as E
from realname.errors import Conflict, Forbidden, NotFound, ValidationError
from services import attendance, audit, localtime, rules
from services import files as file_service
from services.held_posts import HeldPost, held_posts
from services.identity import MANAGE, Principal, ProjectAccess
from services.listing import paged
from services.schemas.supplement import SupplementCreate

LABOUR_OFFICER = "gc_labour_officer"
PROJECT_MANAGER = "gc_project_manager"
CHIEF_SUPERVISOR = "chief_supervisor"
NODE_LABELS = {
    LABOUR_OFFICER: "总包劳务员",
    PROJECT_MANAGER: "总包项目经理",
    CHIEF_SUPERVISOR: "总监理工程师/总监理工程师代表",
}
_FILER_ROLES = {
    UnitRole.GENERAL_CONTRACTOR.value,
    UnitRole.SPECIALTY_SUB.value,
    UnitRole.LABOUR_SUB.value,
}
MAX_EVIDENCE = 9


# --- who is who on the chain ---------------------------------------------------------------------


def _nodes(posts: Iterable[HeldPost]) -> set[str]:
    """The chain nodes these posts fill: the general contractor's labour officer and project
    manager, the supervisor's chief or deputy chief (a permit post counts for the unit role it
    stands for: the permit's project manager is the general contractor's)."""
    nodes: set[str] = set()
    for held in posts:
        if held.unit_role == UnitRole.GENERAL_CONTRACTOR and held.post == Post.LABOUR_OFFICER:
            nodes.add(LABOUR_OFFICER)
        if held.unit_role == UnitRole.GENERAL_CONTRACTOR and held.post == Post.PROJECT_MANAGER:
            nodes.add(PROJECT_MANAGER)
        if held.unit_role == UnitRole.SUPERVISOR and held.post in (
            Post.CHIEF_SUPERVISOR,
            Post.DEPUTY_CHIEF_SUPERVISOR,
        ):
            nodes.add(CHIEF_SUPERVISOR)
    return nodes


async def nodes_of(principal: Principal, project_id: int) -> set[str]:
    """The chain nodes a principal fills on a project (post personnel only)."""
    if principal.kind != AccountKind.PERSON or not principal.person_id:
        return set()
    return _nodes(await held_posts(principal.person_id, project_id))


async def chain_for(project_id: int) -> list[str]:
    """Rule 7's chain for a project: three nodes, or two without a supervision unit."""
    has_supervisor = await ParticipatingUnit.filter(
        project_id=project_id, role=UnitRole.SUPERVISOR
    ).exists()
    chain = [LABOUR_OFFICER, PROJECT_MANAGER]
    return chain + [CHIEF_SUPERVISOR] if has_supervisor else chain


# --- filing --------------------------------------------------------------------------------------


def _clock(value: str | None, day: dt.date, tz: Any) -> dt.datetime | None:
    """``HH:MM[:SS]`` on `day` (the schema's pattern checked the text), None when not given."""
    if value is None:
        return None
    hour, minute, *second = (int(part) for part in value.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute, second[0] if second else 0), tz)


def _check_filer(access: ProjectAccess, member: ProjectMember) -> None:
    """An enterprise admin of the GC or a subcontractor, or post personnel with MANAGE, may file
    for the members whose rows they manage (the GC: every unit's; a subcontractor: its own)."""
    principal = access.principal
    filer = (principal.kind == AccountKind.ENTERPRISE and access.unit_roles & _FILER_ROLES) or (
        principal.kind == AccountKind.PERSON and access.posts and access.can(MANAGE)
    )
    if filer:
        if access.manages(member.unit_id):
            return
        raise Forbidden(code=E.NOT_OWN_MEMBER.code)
    raise Forbidden(code=E.NOT_ALLOWED_TO_FILE.code)


async def file_request(
    access: ProjectAccess,
    body: SupplementCreate,
    uploads: list[tuple[bytes, str]],
    store: Any,
    ip: str = "",
) -> dict[str, Any]:
    """File a request (all checks before anything is stored; audited); returns its public view.
    The schema has checked each field's shape (a member id, a date in range, HH:MM times, a
    reason); this checks them against the project, the member and the clock."""
    project = access.project
    member = await ProjectMember.get_or_none(id=body.member_id, project_id=project.id)
    if member is None or not access.sees(member.unit_id):
        raise NotFound(code=E.MEMBER_NOT_FOUND.code)
    _check_filer(access, member)
    if member.person_type != PersonType.LABOUR:
        raise ValidationError(code=E.NOT_LABOUR.code, field="member_id")
    day = body.date
    tz = attendance.zone(project.timezone)
    now = localtime.now()
    if day > now.astimezone(tz).date():
        raise ValidationError(code=E.FUTURE_DATE.code, field="date")
    if day < member.entry_date:
        raise ValidationError(code=E.BEFORE_ENTRY.code, field="date")
    in_time = _clock(body.in_time, day, tz)
    out_time = _clock(body.out_time, day, tz)
    if in_time is None and out_time is None:
        raise ValidationError("请填写进场时间或出场时间", code=E.REQUIRED.code, field="in_time")
    if in_time and out_time and in_time >= out_time:
        raise ValidationError(code=E.INVALID_TIME.code, field="out_time")
    for t, name in ((in_time, "in_time"), (out_time, "out_time")):
        if t is not None and t > now:
            raise ValidationError("补录时间不能晚于当前时间", code=E.FUTURE_DATE.code, field=name)
    reason = body.reason.strip()
    if len(uploads) > MAX_EVIDENCE:
        raise ValidationError(f"证明材料最多 {MAX_EVIDENCE} 个文件", field="evidence")
    for blob, name in uploads:  # check every file before storing any
        file_service.check_upload(blob, name, file_service.DOCUMENTS, 10 * 1024 * 1024, "evidence")
    block = (await rules.punch_block_reasons([member], day)).get(member.id)
    if block:
        raise ValidationError(
            f"该人员当日不能考勤：{attendance.REASON_LABELS.get(block, block)}",
            code=E.PUNCH_BLOCKED.code,
            field="member_id",
        )
    if await SupplementRequest.filter(
        member_id=member.id, day=day, state=SupplementState.PENDING
    ).exists():
        raise Conflict(code=E.DUPLICATE_REQUEST.code)
    principal = access.principal
    evidence = []
    for blob, name in uploads:
        stored = await file_service.save_project_upload(
            access, store, blob, name, purpose="evidence", field="evidence"
        )
        evidence.append(stored.id)
    chain = await chain_for(project.id)
    async with in_transaction() as conn:
        req = await SupplementRequest.create(
            project=project,
            member=member,
            day=day,
            in_time=in_time,
            out_time=out_time,
            reason=reason,
            evidence=evidence,
            chain=chain,
            **_who("requester", principal),
            requester_unit_ids=sorted(access.unit_ids),
            using_db=conn,
        )
        await audit.record(
            "supplement.file",
            principal=principal,
            project_id=project.id,
            target=f"member:{member.id}",
            detail={"request_id": req.id, "date": day.isoformat(), "files": len(evidence)},
            ip=ip,
            using_db=conn,
        )
    return await request_public(req)


def _who(role: str, principal: Principal) -> dict[str, str]:
    """The ``<role>_kind``, ``<role>_id`` and ``<role>_name`` columns naming ``principal``."""
    return {
        f"{role}_kind": principal.kind,
        f"{role}_id": str(principal.account_id),
        f"{role}_name": principal.display_name,
    }


# --- deciding ------------------------------------------------------------------------------------


async def decide(
    principal: Principal, request_id: int, approve: bool, comment: str = "", ip: str = ""
) -> dict[str, Any]:
    """The current node approves or rejects (audited); the last approval creates the punches."""
    req = await SupplementRequest.get_or_none(id=request_id).select_related("member", "project")
    if req is None:
        raise NotFound(code=E.SUPPLEMENT_NOT_FOUND.code)
    if req.state != SupplementState.PENDING:
        raise Conflict(code=E.ALREADY_DECIDED.code)
    node = req.chain[req.step]
    mine = await nodes_of(principal, req.project_id)
    if node not in mine:
        if mine & set(req.chain):
            raise Forbidden(
                f"当前审批节点为{NODE_LABELS[node]}，尚未轮到您审批", code=E.NOT_CURRENT_NODE.code
            )
        raise Forbidden(code=E.NOT_ON_CHAIN.code)
    comment = (comment or "").strip()[:500]
    if not approve and not comment:
        raise ValidationError("驳回时请填写审批意见", code=E.REQUIRED.code, field="comment")
    final = approve and req.step + 1 == len(req.chain)
    member = req.member
    if final:
        block = (await rules.punch_block_reasons([member], req.day)).get(member.id)
        if block:
            raise Conflict(
                f"该人员当日不能考勤：{attendance.REASON_LABELS.get(block, block)}",
                code=E.PUNCH_BLOCKED.code,
            )
    now = localtime.now()
    async with in_transaction() as conn:
        if not approve:
            changes: dict[str, Any] = {"state": SupplementState.REJECTED, "decided_at": now}
        elif final:
            changes = {"state": SupplementState.APPROVED, "decided_at": now, "step": req.step + 1}
        else:
            changes = {"step": req.step + 1}
        moved = (
            await SupplementRequest.filter(id=req.id, state=SupplementState.PENDING, step=req.step)
            .using_db(conn)
            .update(**changes)
        )
        if not moved:  # someone else decided this node meanwhile
            raise Conflict("该节点已被审批，请刷新后查看", code=E.ALREADY_DECIDED.code)
        await SupplementStep.create(
            request_id=req.id,
            node=node,
            approve=approve,
            comment=comment,
            **_who("actor", principal),
            using_db=conn,
        )
        await audit.record(
            "supplement.approve" if approve else "supplement.reject",
            principal=principal,
            project_id=req.project_id,
            target=f"member:{member.id}",
            detail={
                "request_id": req.id,
                "date": req.day.isoformat(),
                "node": node,
                "final": final,  # the last approval: the punches are created
            },
            ip=ip,
            using_db=conn,
        )
        if final:
            for t, direction in ((req.in_time, Direction.IN), (req.out_time, Direction.OUT)):
                if t is None:
                    continue
                await Punch.create(
                    project_id=req.project_id,
                    member_id=member.id,
                    person_id=member.person_id,
                    device=None,
                    device_punch_id=f"supplement:{req.id}:{direction.value}",
                    time=t,
                    local_date=req.day,
                    direction=direction,
                    liveness=False,
                    source=PunchSource.SUPPLEMENT,
                    status=PunchStatus.ACCEPTED,
                    payload={"supplement_request": req.id},
                    using_db=conn,
                )
    if final:  # after commit: settlement reads committed punches
        await attendance.settle_days(req.project_id, [(member.id, req.day)])
    await req.refresh_from_db()
    return await request_public(req)


# --- reading -------------------------------------------------------------------------------------


def _local(t: dt.datetime | None, tz: Any) -> str | None:
    return t.astimezone(tz).strftime("%H:%M:%S") if t else None


async def request_public(req: SupplementRequest, url_prefix: str | None = None) -> dict[str, Any]:
    """The reply shape of a request: state, chain progress and history."""
    project = await Project.get(id=req.project_id)
    member = await ProjectMember.get(id=req.member_id).select_related("person")
    tz = attendance.zone(project.timezone)
    steps = {s.node: s for s in await SupplementStep.filter(request_id=req.id).order_by("id")}
    chain = []
    for i, node in enumerate(req.chain):
        s = steps.get(node)
        status = (
            ("approved" if s.approve else "rejected")
            if s
            else (
                "current" if req.state == SupplementState.PENDING and i == req.step else "waiting"
            )
        )
        chain.append({"node": node, "label": NODE_LABELS[node], "status": status})
    history = [
        {
            "node": s.node,
            "label": NODE_LABELS[s.node],
            "approve": s.approve,
            "comment": s.comment,
            "actor_name": s.actor_name,
            "decided_at": s.decided_at,
        }
        for s in steps.values()
    ]
    files = await StoredFile.filter(id__in=list(req.evidence or []))
    prefix = url_prefix if url_prefix is not None else f"/admin/v1/projects/{project.code}"
    pending = req.state == SupplementState.PENDING
    current = req.chain[req.step] if pending else None
    return {
        "id": req.id,
        "project_code": project.code,
        "project_name": project.name,
        "member": {
            "id": member.id,
            "name": member.person.name,
            "id_number": member.person.id_number_masked,
        },
        "date": req.day.isoformat(),
        "in_time": _local(req.in_time, tz),
        "out_time": _local(req.out_time, tz),
        "reason": req.reason,
        "evidence": [file_service.file_public(f, prefix) for f in files],
        "state": str(req.state),
        "state_label": SUPPLEMENT_STATE_LABELS[req.state],
        "current_node": current,
        "current_node_label": NODE_LABELS.get(current or ""),
        "chain": chain,
        "history": history,
        "requester_name": req.requester_name,
        "created_at": req.created_at,
        "decided_at": req.decided_at,
    }


async def get_request(access: ProjectAccess, request_id: int) -> dict[str, Any]:
    """One request of the project, for a member whose rows the caller sees (else NotFound)."""
    requests = SupplementRequest.filter(id=request_id, project_id=access.project.id)
    req = await access.rows(requests, "member__unit_id").first()
    if req is None:
        raise NotFound(code=E.SUPPLEMENT_NOT_FOUND.code)
    return await request_public(req)


async def list_requests(
    access: ProjectAccess, scope: str, state: str | None, page_no: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """A project's requests for the members the caller sees: ``all``, ``mine`` (filed by me) or
    ``queue`` (waiting for me)."""
    qs = access.rows(SupplementRequest.filter(project_id=access.project.id), "member__unit_id")
    if state:
        if state not in {s.value for s in SupplementState}:
            raise ValidationError("审批状态应为 pending、approved 或 rejected", field="state")
        qs = qs.filter(state=state)
    if scope == "mine":
        qs = qs.filter(
            requester_kind=access.principal.kind, requester_id=str(access.principal.account_id)
        )
    elif scope == "queue":
        mine = await nodes_of(access.principal, access.project.id)
        pending = await SupplementRequest.filter(
            project_id=access.project.id, state=SupplementState.PENDING
        ).values_list("id", "chain", "step")
        ids = [i for i, chain, step in pending if chain[step] in mine]
        qs = qs.filter(id__in=ids, state=SupplementState.PENDING)
    elif scope != "all":
        raise ValidationError("scope 应为 all、mine 或 queue", field="scope")
    total = await qs.count()
    reqs = await paged(qs, page_no, size, "-id")
    return [await request_public(r) for r in reqs], total


async def pending_for(principal: Principal) -> list[dict[str, Any]]:
    """Every request, on any project, now waiting for this principal's decision."""
    if principal.kind != AccountKind.PERSON or not principal.person_id:
        return []
    by_project: dict[int, list[HeldPost]] = defaultdict(list)
    for held in await held_posts(principal.person_id):
        by_project[held.project_id].append(held)
    out = []
    for project_id in sorted(by_project):
        mine = _nodes(by_project[project_id])
        if not mine:
            continue
        for req in await SupplementRequest.filter(
            project_id=project_id, state=SupplementState.PENDING
        ).order_by("id"):
            if req.chain[req.step] in mine:
                out.append(await request_public(req))
    return out
