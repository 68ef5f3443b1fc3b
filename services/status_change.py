"""Project status change (项目状态变更申请) and its regulator review chain (rule 8).

The project's managing level decides the chain: county-managed → the county's first review, then
the city's final review; city-managed → the city's final review; province-managed → the
province's final review. Reviewers are regulator accounts whose region is exactly the step's
region. Approval at the final step changes the project's status; a rejection leaves it unchanged.
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AccountKind, ManagingLevel, Project, Region
from models.approvals import (
    REQUEST_STATE_LABELS,
    STEP_STATE_LABELS,
    RequestState,
    StatusChangeRequest,
    StatusReviewStep,
    StepState,
)
from models.files import StoredFile
from realname import error_codes as E
from realname.errors import Conflict, Forbidden, NotFound, ValidationError
from realname.storage import FileStore
from services import files as file_service
from services import localtime
from services.identity import MANAGE, REVIEW, Principal, ProjectAccess, compute_access
from services.listing import filter_choice, numbered, paged
from services.units import Upload, text

PROJECT_STATUSES = ("未开工", "在建", "停工", "完工")
ENDED_STATUS = "完工"
LEVEL_LABELS = {"county": "区县", "city": "市州", "province": "省级"}
MAX_FILES = 10
OPEN_EXISTS = "该项目已有审核中的状态变更申请，请等待审核完成后再申请"


def review_chain(project: Project) -> list[tuple[str, str, bool]]:
    """Rule 8: the (level, region code, final) steps for the project's managing level."""
    code: str = project.region_id
    county, city, province = code, code[:4] + "00", code[:2] + "0000"
    level = str(project.managing_level)
    if level == ManagingLevel.PROVINCE:
        return [("province", province, True)]
    if level == ManagingLevel.CITY or county == city:
        return [("city", city, True)]
    return [("county", county, False), ("city", city, True)]


def step_label(level: str, final: bool) -> str:
    """区县初审 / 市州终审 / 省级终审."""
    return f"{LEVEL_LABELS.get(level, level)}{'终审' if final else '初审'}"


async def _region_names(codes: set[str]) -> dict[str, str]:
    return {r.code: r.name for r in await Region.filter(code__in=list(codes))}


def _reviewer_label(step: StatusReviewStep, names: dict[str, str]) -> str:
    region = names.get(step.region_id, step.region_id)
    return f"{region}主管部门（{step_label(step.level, step.final)}）"


# --- applying ------------------------------------------------------------------------------------


async def apply(
    access: ProjectAccess, data: dict[str, Any], uploads: list[Upload], store: FileStore
) -> StatusChangeRequest:
    """变更申请: open a request (one open request per project) with reason and files."""
    access.require(MANAGE)
    project = access.project
    to_status = text(data, "to_status", "变更状态", required=True, max_len=16)
    if to_status not in PROJECT_STATUSES:
        raise ValidationError(
            f"变更状态应为：{'、'.join(PROJECT_STATUSES)}",
            code=E.INVALID_CHOICE.code,
            field="to_status",
        )
    if to_status == project.status:
        raise ValidationError(
            f"项目当前已是“{project.status}”状态", code=E.SAME_STATUS.code, field="to_status"
        )
    reason = text(data, "reason", "变更原因", required=True, max_len=1000)
    if len(uploads) > MAX_FILES:
        raise ValidationError(f"附件最多{MAX_FILES}个", code=E.TOO_MANY.code, field="files")
    for up in uploads:  # check every file before storing any
        file_service.check_upload(
            up.data, up.name, file_service.DOCUMENTS, 10 * 1024 * 1024, "files"
        )
    chain = review_chain(project)
    if await Region.filter(code__in=[c for _, c, _ in chain]).count() != len(chain):
        raise Conflict(code=E.NO_REVIEWER.code)
    if await StatusChangeRequest.exists(project_id=project.id, state=RequestState.PENDING):
        raise Conflict(OPEN_EXISTS, code=E.OPEN_REQUEST_EXISTS.code)
    stored: list[StoredFile] = [
        await file_service.save_project_upload(
            access, store, up.data, up.name, purpose="status_change", field="files"
        )
        for up in uploads
    ]
    try:
        async with in_transaction():
            req = await StatusChangeRequest.create(
                project_id=project.id,
                from_status=project.status,
                to_status=to_status,
                reason=reason,
                file_ids=[f.id for f in stored],
                open_project_id=project.id,
                initiator_name=access.principal.display_name,
                initiator_actor=access.principal.actor,
            )
            for seq, (level, region, final) in enumerate(chain, start=1):
                await StatusReviewStep.create(
                    request=req,
                    seq=seq,
                    level=level,
                    final=final,
                    region_id=region,
                    state=StepState.PENDING if seq == 1 else StepState.WAITING,
                )
    except IntegrityError as exc:  # a concurrent application won the unique open slot
        raise Conflict(OPEN_EXISTS, code=E.OPEN_REQUEST_EXISTS.code) from exc
    return req


async def withdraw(access: ProjectAccess, request_id: int) -> StatusChangeRequest:
    """撤回 an open request before any reviewer has decided on it."""
    access.require(MANAGE)
    req = await _request_of_project(access.project, request_id)
    if req.state != RequestState.PENDING:
        raise Conflict(code=E.REQUEST_CLOSED.code)
    if await StatusReviewStep.exists(request_id=req.id, state=StepState.APPROVED):
        raise Conflict(code=E.REQUEST_IN_REVIEW.code)
    async with in_transaction():
        changed = await StatusChangeRequest.filter(id=req.id, state=RequestState.PENDING).update(
            state=RequestState.WITHDRAWN, open_project_id=None, decided_at=localtime.now()
        )
        if not changed:
            raise Conflict(code=E.REQUEST_CHANGED.code)
        await StatusReviewStep.filter(
            request_id=req.id, state__in=[StepState.PENDING, StepState.WAITING]
        ).update(state=StepState.CANCELLED)
    return req


# --- reviewing -----------------------------------------------------------------------------------


async def _load_for_review(
    principal: Principal, request_id: int
) -> tuple[StatusChangeRequest, ProjectAccess]:
    if principal.kind != AccountKind.REGULATOR:
        raise Forbidden("仅主管部门可审核项目状态变更", code=E.WRONG_ACCOUNT_KIND.code)
    req = await StatusChangeRequest.get_or_none(id=request_id).prefetch_related("project")
    if req is None:
        raise NotFound(code=E.REQUEST_NOT_FOUND.code)
    access = await compute_access(principal, req.project)
    if REVIEW not in access.caps:  # outside the regulator's region: not even visible
        raise NotFound(code=E.REQUEST_NOT_FOUND.code)
    return req, access


async def review(
    principal: Principal, request_id: int, approve: bool, notes: Any
) -> StatusChangeRequest:
    """Approve or reject the current step; the final approval changes the project's status."""
    req, _ = await _load_for_review(principal, request_id)
    if req.state != RequestState.PENDING:
        raise Conflict(
            f"该申请已{REQUEST_STATE_LABELS[RequestState(req.state)]}，无需再审核",
            code=E.REQUEST_CLOSED.code,
        )
    steps = await StatusReviewStep.filter(request_id=req.id).order_by("seq")
    current = next(s for s in steps if s.state == StepState.PENDING)
    names = await _region_names({s.region_id for s in steps})
    if principal.region_code != current.region_id:
        mine = [s for s in steps if s.region_id == principal.region_code]
        if mine and mine[0].state == StepState.WAITING:
            raise Forbidden(
                f"尚未轮到您审核，当前审核人：{_reviewer_label(current, names)}",
                code=E.NOT_YOUR_TURN.code,
            )
        if mine:
            raise Forbidden(code=E.ALREADY_REVIEWED.code)
        raise Forbidden(
            f"该申请应由{_reviewer_label(current, names)}审核，您无权审核",
            code=E.WRONG_REVIEWER.code,
        )
    notes = "" if notes is None else str(notes).strip()
    if not approve and not notes:
        raise ValidationError("驳回时请填写审核意见", code=E.REQUIRED.code, field="notes")
    if len(notes) > 1000:
        raise ValidationError("审核意见不能超过1000个字符", code=E.TOO_LONG.code, field="notes")
    now = localtime.now()
    async with in_transaction():
        decided = await StatusReviewStep.filter(id=current.id, state=StepState.PENDING).update(
            state=StepState.APPROVED if approve else StepState.REJECTED,
            notes=notes,
            reviewer_account_id=principal.account_id,
            reviewer_name=principal.display_name,
            decided_at=now,
        )
        if not decided:  # another reviewer of the same region got there first
            raise Conflict("该申请已被审核，请刷新后查看", code=E.REQUEST_CHANGED.code)
        if not approve:
            await StatusReviewStep.filter(request_id=req.id, state=StepState.WAITING).update(
                state=StepState.CANCELLED
            )
            await StatusChangeRequest.filter(id=req.id).update(
                state=RequestState.REJECTED, open_project_id=None, decided_at=now
            )
        elif not current.final:
            nxt = next(s for s in steps if s.seq == current.seq + 1)
            await StatusReviewStep.filter(id=nxt.id).update(state=StepState.PENDING)
        else:
            await StatusChangeRequest.filter(id=req.id).update(
                state=RequestState.APPROVED, open_project_id=None, decided_at=now
            )
            project: Project = req.project
            project.status = req.to_status
            project.ended_on = (
                localtime.project_today(project) if req.to_status == ENDED_STATUS else None
            )
            await project.save(update_fields=["status", "ended_on", "updated_at"])
    await req.refresh_from_db()
    return req


# --- reading -------------------------------------------------------------------------------------


async def _request_of_project(project: Project, request_id: int) -> StatusChangeRequest:
    req = await StatusChangeRequest.get_or_none(id=request_id, project_id=project.id)
    if req is None:
        raise NotFound(code=E.REQUEST_NOT_FOUND.code)
    return req


async def _public_many(reqs: list[StatusChangeRequest], with_detail: bool) -> list[dict[str, Any]]:
    if not reqs:
        return []
    steps = await StatusReviewStep.filter(request_id__in=[r.id for r in reqs]).order_by("seq")
    names = await _region_names({s.region_id for s in steps})
    by_req: dict[int, list[StatusReviewStep]] = {}
    for s in steps:
        by_req.setdefault(s.request_id, []).append(s)
    files: dict[int, StoredFile] = {}
    if with_detail:
        ids = [i for r in reqs for i in (r.file_ids or [])]
        files = {f.id: f for f in await StoredFile.filter(id__in=ids)} if ids else {}
    out = []
    for r in reqs:
        mine = by_req.get(r.id, [])
        current = next((s for s in mine if s.state == StepState.PENDING), None)
        row: dict[str, Any] = {
            "id": r.id,
            "from_status": r.from_status,  # 变更前状态
            "to_status": r.to_status,  # 变更状态
            "state": str(r.state),
            "state_label": REQUEST_STATE_LABELS[RequestState(r.state)],  # 审批状态
            "current_reviewer": _reviewer_label(current, names) if current else "--",  # 当前审核人
            "initiator": r.initiator_name,  # 发起人
            "created_at": r.created_at,  # 发起时间
            "decided_at": r.decided_at,
            "reason": r.reason,
        }
        project = getattr(r, "project", None)
        if isinstance(project, Project):
            row["project"] = {"code": project.code, "name": project.name, "status": project.status}
        if with_detail:
            prefix = f"/admin/v1/projects/{project.code}" if isinstance(project, Project) else ""
            row["files"] = [
                file_service.file_public(files[i], prefix) for i in (r.file_ids or []) if i in files
            ]
            row["reviews"] = [
                {
                    "seq": s.seq,
                    "level": s.level,
                    "step_label": step_label(s.level, s.final),
                    "region_code": s.region_id,
                    "region_name": names.get(s.region_id, ""),
                    "state": str(s.state),
                    "state_label": STEP_STATE_LABELS[StepState(s.state)],
                    "reviewer": s.reviewer_name,
                    "notes": s.notes,
                    "decided_at": s.decided_at,
                }
                for s in mine
            ]
        out.append(row)
    return out


async def list_for_project(
    access: ProjectAccess, state: str | None, page_no: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """The project's requests, newest first, with the manual's columns."""
    query = StatusChangeRequest.filter(project_id=access.project.id)
    query = filter_choice(query, "state", state, RequestState, "审批状态")
    total = await query.count()
    reqs = await paged(query, page_no, size, "-id")
    for r in reqs:
        r.project = access.project
    rows = await _public_many(reqs, with_detail=False)
    return [{"seq": seq, **row} for seq, row in numbered(rows, page_no, size)], total


async def detail_for_project(access: ProjectAccess, request_id: int) -> dict[str, Any]:
    """One request with its files and every review step's notes (查看详情)."""
    req = await _request_of_project(access.project, request_id)
    req.project = access.project
    return (await _public_many([req], with_detail=True))[0]


async def detail_for_reviewer(principal: Principal, request_id: int) -> dict[str, Any]:
    """One request as its regulator sees it."""
    req, _ = await _load_for_review(principal, request_id)
    return (await _public_many([req], with_detail=True))[0]


async def review_queue(
    principal: Principal, state: str, page_no: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """The regulator's queue: requests whose current step is theirs (``pending``), or the ones
    they have decided (``done``)."""
    if principal.kind != AccountKind.REGULATOR or not principal.region_code:
        raise Forbidden("仅主管部门可查看审核列表", code=E.WRONG_ACCOUNT_KIND.code)
    if state not in ("pending", "done"):
        raise ValidationError(
            "state 应为 pending 或 done", code=E.INVALID_CHOICE.code, field="state"
        )
    wanted = [StepState.PENDING] if state == "pending" else [StepState.APPROVED, StepState.REJECTED]
    query = StatusReviewStep.filter(region_id=principal.region_code, state__in=wanted)
    total = await query.count()
    steps = await paged(query, page_no, size, "-id")
    reqs_by_id = {
        r.id: r
        for r in await StatusChangeRequest.filter(
            id__in=[s.request_id for s in steps]
        ).prefetch_related("project")
    }
    reqs = [reqs_by_id[s.request_id] for s in steps]
    rows = await _public_many(reqs, with_detail=False)
    for row, s in zip(rows, steps, strict=True):
        row["my_step"] = step_label(s.level, s.final)
    return [{"seq": seq, **row} for seq, row in numbered(rows, page_no, size)], total


async def pending_review_count(principal: Principal, project_id: int | None = None) -> int:
    """How many status-change reviews wait for this regulator (optionally on one project)."""
    if principal.kind != AccountKind.REGULATOR or not principal.region_code:
        return 0
    query = StatusReviewStep.filter(region_id=principal.region_code, state=StepState.PENDING)
    if project_id is not None:
        query = query.filter(request__project_id=project_id)
    return await query.count()
