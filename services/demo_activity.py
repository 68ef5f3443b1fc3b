"""Demo activity: what people have done on the demo projects, so every screen shows something.

`services.demo` builds the projects, people, devices and punches; this adds, through the same
service functions the API calls (so their rules apply), the work of the last weeks: regulators'
announcements (通知公告), supplementary-attendance requests along their chain (考勤补录),
project status changes along the regulators' chain (项目状态变更), binding requests waiting for a
labour officer (实名绑定申请), terminated and soon-ending contracts (合同), duty records (履职),
material reports and wage-account materials (材料), and device commands (指令记录).

Each kind is created per project only when that project has none of it yet, so a second run
stores nothing twice. The services stamp "now"; the rows are then dated back to plausible days
before ``today`` (in the project's local time). QH-DEMO-001 is the project the console's
end-to-end walk files its own supplement and status change on: no request there waits for the
labour officer, the chief supervisor or a regulator, so the walk's queues hold only its own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from models import (
    Account,
    AccountKind,
    DailyAttendance,
    Device,
    DeviceKind,
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
    WorkStatus,
)
from models.announcements import Announcement
from models.approvals import StatusChangeRequest, StatusReviewStep
from models.audit import AuditLog
from models.binding import BindingRequest, BindingRequestStatus
from models.contracts import ContractStatus, LabourContract
from models.devices import DeviceCommand
from models.duty import DutyKind, DutyRecord
from models.materials import MonthlyReport, WageAccountMaterial
from models.supplement import SupplementRequest, SupplementStep
from realname.storage import FileStore
from services import accounts, announcements, contracts, materials, pii, posts, status_change
from services import supplement as supplements
from services.devices import commands
from services.identity import Principal, ProjectAccess, compute_access, principal_for_account
from services.labour.members import exit_member
from services.schemas.contracts import ContractTerminate, ContractUpdate
from services.schemas.labour import MemberExit
from services.schemas.posts import DutyCreate
from services.schemas.supplement import SupplementCreate
from services.units import Upload

TZ = ZoneInfo("Asia/Shanghai")
WALKED = "QH-DEMO-001"  # the project of the console's end-to-end walk (tests/web)
MAX_BYTES = 10 * 1024 * 1024


def _pdf(title: str) -> bytes:
    """A small valid one-page PDF (what a scanned attachment stands for in the demo)."""
    text = title.encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\nBT /F1 18 Tf 72 760 Td (%s) Tj ET\nendstream"
        % (len(text) + 35, text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of a demo day given in the projects' local time, as stored (UTC, like every
    timestamp the ORM writes: SQLite compares them as text)."""
    return dt.datetime.combine(day, dt.time(hour, minute), TZ).astimezone(dt.UTC)


# --- who acts ------------------------------------------------------------------------------------


async def _unit_access(project: Project, role: UnitRole) -> ProjectAccess | None:
    """The enterprise admin of the project's unit with `role`, as the API would see them."""
    unit = (
        await ParticipatingUnit.filter(project_id=project.id, role=role)
        .prefetch_related("enterprise")
        .first()
    )
    if unit is None:
        return None
    account = await accounts.enterprise_account(unit.enterprise.credit_code)
    return await compute_access(principal_for_account(account), project)


async def _post_principal(project: Project, role: UnitRole, post: Post) -> Principal | None:
    """The post person (e.g. the GC's labour officer) signed in with their own account."""
    member = (
        await ProjectMember.filter(
            project_id=project.id,
            post=post,
            unit__role=role,
            work_status=WorkStatus.ACTIVE,
        )
        .prefetch_related("person")
        .first()
    )
    if member is None:
        return None
    account = await Account.filter(kind=AccountKind.PERSON, person_id=member.person_id).first()
    if account is None:
        account = await Account.create(
            kind=AccountKind.PERSON, person_id=member.person_id, display_name=member.person.name
        )
    return principal_for_account(account)


async def _regulator(region_code: str) -> Principal:
    return principal_for_account(await accounts.regulator_account(region_code))


# --- 通知公告 ------------------------------------------------------------------------------------

ANNOUNCEMENTS = [
    # (publisher region, days ago, title, content)
    (
        "630000",
        21,
        "关于进一步加强房屋建筑和市政工程建筑工人实名制管理的通知",
        "各市州住房和城乡建设局、各在建项目：\n"
        "为保障农民工合法权益，请各项目严格落实建筑工人实名制管理：工人进场前须通过采集设备完成"
        "实名采集并签订劳动合同，考勤设备须保持在线，按月上传材料月报。省厅将于下月组织专项抽查。",
    ),
    (
        "630000",
        3,
        "关于开展根治欠薪冬季专项行动的通知",
        "各在建项目须于本月底前核对农民工工资专户发放记录，确保工资按月足额支付；"
        "总包单位请在平台补齐工资专户材料和工资保证金缴纳凭证。",
    ),
    (
        "630100",
        9,
        "西宁市关于做好岁末年初农民工工资支付工作的通知",
        "市内各在建项目：请总包单位落实农民工工资专用账户管理和总包代发制度，"
        "劳务员每日核对考勤，发现异常考勤及时发起考勤补录。",
    ),
    (
        "630102",
        1,
        "城东区关于考勤设备在线率检查的提醒",
        "区住建局将于本周抽查辖区项目考勤设备在线情况，离线设备请及时排查网络和电源。",
    ),
]


async def _announcements(today: dt.date) -> None:
    for region, days_ago, title, content in ANNOUNCEMENTS:
        if await Announcement.exists(title=title):
            continue
        notice = await announcements.publish(
            await _regulator(region), {"title": title, "content": content}
        )
        await Announcement.filter(id=notice.id).update(
            published_at=_at(today - dt.timedelta(days=days_ago), 9, 30)
        )


# --- 考勤补录 ------------------------------------------------------------------------------------

# What each demo request becomes: decided by how many nodes, and whether the last one rejects.
_APPROVED, _AT_PM, _REJECTED, _NEW = "approved", "at_pm", "rejected", "new"
_OFFICE_HOURS = ((16, 30), (10, 5), (17, 20))  # when the 1st, 2nd and 3rd node decide
_REASONS = {
    _APPROVED: "下班时考勤机人脸识别失败，未能打出场卡，班组长可证明当日在岗",
    _AT_PM: "当日在基坑作业至傍晚，收工时考勤机断电，未能打出场卡",
    _REJECTED: "手机没电，下班忘记在移动考勤机上打卡",
    _NEW: "出场时考勤机排队人多，未打卡即离场",
}


async def _missing_out_days(
    project: Project, today: dt.date, exclude_surname: str
) -> list[tuple[ProjectMember, dt.date]]:
    """(member, day) pairs of the last two weeks with an accepted in-punch and nothing else:
    the days a site would file a supplement for. Members with a contract and a wage card only,
    one day per member, newest first."""
    first, last = today - dt.timedelta(days=20), today - dt.timedelta(days=3)
    rows = await Punch.filter(
        project_id=project.id,
        local_date__gte=first,
        local_date__lte=last,
        status=PunchStatus.ACCEPTED,
    ).values_list("member_id", "local_date", "direction")
    per_day: dict[tuple[int, dt.date], list[str]] = {}
    for member_id, day, direction in rows:
        per_day.setdefault((member_id, day), []).append(str(direction))
    lone = {k for k, dirs in per_day.items() if dirs == [Direction.IN.value]}
    signed = {
        c.member_id
        for c in await LabourContract.filter(
            project_id=project.id, status=ContractStatus.ACTIVE, deleted_at__isnull=True
        )
    }
    members = {
        m.id: m
        for m in await ProjectMember.filter(
            id__in=list({m for m, _ in lone}),
            person_type=PersonType.LABOUR,
            work_status=WorkStatus.ACTIVE,
            migrated=False,
        ).prefetch_related("person")
    }
    out: list[tuple[ProjectMember, dt.date]] = []
    for member_id, day in sorted(lone, key=lambda k: (-k[1].toordinal(), k[0])):
        m = members.get(member_id)
        if m is None or member_id not in signed:
            continue
        if exclude_surname and m.person.name.startswith(exclude_surname):
            continue
        if any(m.id == o.id or day == d for o, d in out):  # one per member and per day
            continue
        out.append((m, day))
    return out


async def _supplements(project: Project, today: dt.date, store: FileStore) -> None:
    if await SupplementRequest.exists(project_id=project.id):
        return
    gc = await _unit_access(project, UnitRole.GENERAL_CONTRACTOR)
    officer = await _post_principal(project, UnitRole.GENERAL_CONTRACTOR, Post.LABOUR_OFFICER)
    pm = await _post_principal(project, UnitRole.GENERAL_CONTRACTOR, Post.PROJECT_MANAGER)
    chief = await _post_principal(project, UnitRole.SUPERVISOR, Post.CHIEF_SUPERVISOR)
    if gc is None or officer is None or pm is None:
        return
    # The walk files for a worker named 王… on QH-DEMO-001 and finds its row by the name.
    plans = [_APPROVED, _AT_PM, _REJECTED] + ([] if project.code == WALKED else [_NEW])
    exclude = "王" if project.code == WALKED else ""
    days = await _missing_out_days(project, today, exclude)
    deciders: list[tuple[Principal, str]] = [(officer, "情况属实"), (pm, "同意补录")]
    if chief is not None:
        deciders.append((chief, "同意"))
    for plan, (member, day) in zip(plans, days, strict=False):
        body = SupplementCreate.model_validate(
            {"member_id": member.id, "date": day, "out_time": "17:45", "reason": _REASONS[plan]}
        )
        evidence = [(_pdf("Team leader statement"), "班组长证明.pdf")] if plan == _APPROVED else []
        last = await AuditLog.all().order_by("-id").first()
        audited = last.id if last else 0
        filed = await supplements.file_request(gc, body, evidence, store)
        rid = filed["id"]
        steps: list[tuple[Principal, bool, str]] = []
        if plan == _APPROVED:
            steps = [(p, True, c) for p, c in deciders]
        elif plan == _AT_PM:
            steps = [(officer, True, "属实，请项目经理审批")]
        elif plan == _REJECTED:
            steps = [(officer, True, "已核对"), (pm, False, "当日监控显示17:10已离场，不予补录")]
        for principal, approve, comment in steps:
            await supplements.decide(principal, rid, approve, comment)
        # dated back: filed the next morning, the nodes deciding in office hours of the next
        # two days (the latest on the day before `today`)
        filed_at = _at(day + dt.timedelta(days=1), 9, 10)
        await SupplementRequest.filter(id=rid).update(created_at=filed_at)
        moments = [filed_at]
        for n, step in enumerate(await SupplementStep.filter(request_id=rid).order_by("id")):
            moments.append(_at(day + dt.timedelta(days=1 + (n + 1) // 2), *_OFFICE_HOURS[n]))
            await SupplementStep.filter(id=step.id).update(decided_at=moments[-1])
        if plan in (_APPROVED, _REJECTED):
            await SupplementRequest.filter(id=rid).update(decided_at=moments[-1])
        # the project log (操作日志) shows the filing and each decision when they happened
        logged = AuditLog.filter(id__gt=audited, project_id=project.id, action__startswith="supp")
        for entry, at in zip(await logged.order_by("id"), moments, strict=False):
            await AuditLog.filter(id=entry.id).update(at=at)


# --- 项目状态变更 --------------------------------------------------------------------------------

# Per project: the requests, oldest first: (to status, reason, days ago, decisions to make).
# QH-DEMO-001 (county → city) keeps no open request: the walk applies there itself.
STATUS_CHANGES: dict[str, list[tuple[str, str, int, list[tuple[bool, str]]]]] = {
    WALKED: [
        (
            "完工",
            "主体结构及室内装修已全部完成，申请变更为完工",
            24,
            [(True, "材料齐全，同意报市州终审"), (False, "尚未完成竣工验收备案，请备案后再申请")],
        ),
    ],
    "QH-DEMO-002": [("停工", "冬季气温低于-10℃，混凝土无法正常养护，申请冬季停工", 2, [])],
    "QH-DEMO-003": [
        ("停工", "因黄河防汛需要，河道沿岸施工暂停，申请停工", 5, [(True, "情况属实，同意")]),
    ],
    "QH-DEMO-004": [("停工", "昆仑路冬季封路改造暂停施工，申请停工至次年三月", 1, [])],
}


async def _status_changes(project: Project, today: dt.date, store: FileStore) -> None:
    if await StatusChangeRequest.exists(project_id=project.id):
        return
    gc = await _unit_access(project, UnitRole.GENERAL_CONTRACTOR)
    if gc is None:
        return
    chain = status_change.review_chain(project)
    for to_status, reason, days_ago, decisions in STATUS_CHANGES.get(project.code, []):
        uploads = [Upload(_pdf("Status change report"), "项目状态变更申请报告.pdf")]
        req = await status_change.apply(
            gc, {"to_status": to_status, "reason": reason}, uploads, store
        )
        for (_, region, _), (approve, notes) in zip(chain, decisions, strict=False):
            await status_change.review(await _regulator(region), req.id, approve, notes)
        filed_at = _at(today - dt.timedelta(days=days_ago), 10, 20)
        await StatusChangeRequest.filter(id=req.id).update(created_at=filed_at)
        decided = await StatusReviewStep.filter(
            request_id=req.id, decided_at__isnull=False
        ).order_by("seq")
        for n, step in enumerate(decided, start=1):
            await StatusReviewStep.filter(id=step.id).update(
                decided_at=filed_at + dt.timedelta(days=n, hours=5)
            )
        if (await StatusChangeRequest.get(id=req.id)).decided_at is not None:
            await StatusChangeRequest.filter(id=req.id).update(
                decided_at=filed_at + dt.timedelta(days=len(decided), hours=5)
            )


# --- 实名绑定申请 --------------------------------------------------------------------------------


async def _binding_requests(project: Project, today: dt.date) -> None:
    """Two workers whose WeChat phone is not the one enrolled wait for the labour officer."""
    members = await ProjectMember.filter(
        project_id=project.id, person_type=PersonType.LABOUR, work_status=WorkStatus.ACTIVE
    ).order_by("id")
    person_ids = [m.person_id for m in members]
    if await BindingRequest.exists(person_id__in=person_ids):
        return
    for n, member in enumerate(members[7:9]):
        openid = f"o-demo-{project.code[-3:]}-{member.id:06d}"
        account = await Account.get_or_none(wechat_openid=openid)
        if account is None:
            account = await Account.create(
                kind=AccountKind.PERSON, wechat_openid=openid, display_name="微信用户"
            )
        phone = f"1370971{member.id % 10000:04d}"
        req = await BindingRequest.create(
            account=account,
            person_id=member.person_id,
            status=BindingRequestStatus.PENDING,
            wechat_phone_enc=pii.cipher().encrypt(phone),
            wechat_phone_masked=pii.mask_phone(phone),
            reason="phone_mismatch",
        )
        await BindingRequest.filter(id=req.id).update(
            created_at=_at(today - dt.timedelta(days=n + 1), 20, 15)
        )


# --- 合同 ----------------------------------------------------------------------------------------


_GENERATED = (PunchSource.DEVICE, PunchSource.MOBILE)  # services.demo's month of punches


async def _contracts(project: Project, today: dt.date, store: FileStore) -> None:
    """Two contracts ended (a worker who left, one by agreement) and three ending soon."""
    if await LabourContract.exists(project_id=project.id, status=ContractStatus.TERMINATED):
        return
    gc = await _unit_access(project, UnitRole.GENERAL_CONTRACTOR)
    if gc is None:
        return
    active = await LabourContract.filter(
        project_id=project.id, status=ContractStatus.ACTIVE, deleted_at__isnull=True
    ).order_by("-id")
    leaving, ending = active[:2], active[2:5]
    for n, (contract, kind, reason) in enumerate(
        zip(
            leaving,
            ("乙方解约", "协商解约"),
            ("本人因家中有事返乡，申请解除劳动合同", "所在班组工程量完成，双方协商一致解除"),
            strict=False,
        )
    ):
        day = today - dt.timedelta(days=3 + 2 * n)
        await contracts.terminate_contract(
            gc,
            contract.id,
            ContractTerminate(
                termination_type=kind,
                termination_reason=reason,
                initiated_at=_at(day - dt.timedelta(days=2), 9).isoformat(),
                confirmed_at=_at(day, 16).isoformat(),
            ),
        )
        member = await ProjectMember.get(id=contract.member_id)
        left_on = max(day, member.entry_date)
        await exit_member(gc, member.id, MemberExit(exit_date=left_on))
        # the month of punches the demo generated for everyone did not stop on that day: those
        # after it never happened (else the leaver is 今日在场 and attends after leaving)
        await Punch.filter(
            member_id=member.id, local_date__gt=left_on, source__in=_GENERATED
        ).delete()
        await DailyAttendance.filter(member_id=member.id, day__gt=left_on).delete()
    for contract, days in zip(ending, (6, 13, 27), strict=False):
        end = today + dt.timedelta(days=days)
        if end < contract.start_date:
            continue
        body = ContractUpdate.model_validate({"end_date": end})
        await contracts.update_contract(gc, contract.id, body, None, store, MAX_BYTES)


# --- 履职记录 ------------------------------------------------------------------------------------


async def _duty(project: Project, today: dt.date, store: FileStore) -> None:
    if await DutyRecord.exists(project_id=project.id):
        return
    supervisor = await _unit_access(project, UnitRole.SUPERVISOR)
    chief = await ProjectMember.filter(
        project_id=project.id, post=Post.CHIEF_SUPERVISOR, work_status=WorkStatus.ACTIVE
    ).first()
    if supervisor is not None and chief is not None:
        for n, days_ago in enumerate((15, 8, 1), start=9):
            body = DutyCreate(
                kind=DutyKind.SUPERVISION_MEETING.value,
                duty_date=today - dt.timedelta(days=days_ago),
                host_member_id=chief.id,
                content=f"第{n}次监理例会：通报上周质量安全检查情况，布置冬季施工防冻措施",
            )
            await posts.register_duty(
                supervisor, body, (_pdf("Meeting sign-in sheet"), "监理例会签到表.pdf"), store,
                MAX_BYTES,
            )  # fmt: skip
    gc = await _unit_access(project, UnitRole.GENERAL_CONTRACTOR)
    pm = await ProjectMember.filter(
        project_id=project.id,
        post=Post.PROJECT_MANAGER,
        unit__role=UnitRole.GENERAL_CONTRACTOR,
        work_status=WorkStatus.ACTIVE,
    ).first()
    if gc is not None and pm is not None:
        for days_ago, content in (
            (12, "带班检查脚手架搭设及临边防护，督促整改两处安全隐患"),
            (5, "组织召开农民工工资支付专题会，核对上月工资发放表"),
            (2, "现场带班，检查冬季施工保温措施和考勤设备运行情况"),
        ):
            body = DutyCreate(
                kind=DutyKind.PM_DUTY.value,
                duty_date=today - dt.timedelta(days=days_ago),
                host_member_id=pm.id,
                content=content,
            )
            await posts.register_duty(gc, body, None, store, MAX_BYTES)


# --- 材料 ----------------------------------------------------------------------------------------


def _months_back(today: dt.date, n: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - n
    return index // 12, index % 12 + 1


async def _materials(project: Project, today: dt.date, store: FileStore) -> None:
    """The last two months' material reports and three of the four workbench wage materials
    (工程款支付担保函 still missing, so the workbench shows one card to do)."""
    gc = await _unit_access(project, UnitRole.GENERAL_CONTRACTOR)
    if gc is None:
        return
    units = {
        u.role: u
        for u in await ParticipatingUnit.filter(project_id=project.id).prefetch_related(
            "enterprise"
        )
    }
    gc_unit, builder = units[UnitRole.GENERAL_CONTRACTOR], units[UnitRole.BUILDER]

    async def attachment(title: str, name: str) -> int:
        stored = await materials.upload_attachment(gc, Upload(_pdf(title), name), store)
        return stored.id

    code = project.code[-3:]
    if not await MonthlyReport.exists(project_id=project.id):
        for back in (2, 1):
            year, month = _months_back(today, back)
            items = [
                {
                    "kind": "receipt",
                    "unit_id": gc_unit.id,
                    "number": f"SK{year}{month:02d}-{code}",
                    "counterparty": builder.enterprise.name,
                    "amount": "3650000.00" if back == 2 else "2980000.00",
                    "date": dt.date(year, month, 10).isoformat(),
                    "file_id": await attachment("Receipt voucher", "工程款收款凭证.pdf"),
                },
                {
                    "kind": "payment",
                    "unit_id": gc_unit.id,
                    "number": f"FK{year}{month:02d}-{code}",
                    "counterparty": "青海西部水泥股份有限公司",
                    "amount": "428600.00" if back == 2 else "356200.00",
                    "date": dt.date(year, month, 18).isoformat(),
                    "file_id": await attachment("Payment voucher", "材料款付款凭证.pdf"),
                },
            ]
            if back == 2:
                items.append(
                    {
                        "kind": "contract",
                        "unit_id": gc_unit.id,
                        "number": f"CG-{code}-001",
                        "counterparty": "青海西部水泥股份有限公司",
                        "amount": "1860000.00",
                        "date": dt.date(year, month, 3).isoformat(),
                        "file_id": await attachment("Purchase contract", "材料采购合同.pdf"),
                    }
                )
            report = await materials.register_month(
                gc, year, month, {"note": "按月登记", "items": items}
            )
            await MonthlyReport.filter(id=report.id).update(
                registered_at=_at(dt.date(year, month, 25), 15, 30)
            )
    if not await WageAccountMaterial.exists(project_id=project.id):
        bank, branch = "中国建设银行西宁城东支行", "105851000011"
        agreement = f"TG-{code}-2026"
        forms: list[tuple[str, dict[str, Any]]] = [
            (
                "escrow_agreement",
                {
                    "party_a_unit_id": builder.id,
                    "party_b_unit_id": gc_unit.id,
                    "bank_name": bank,
                    "agreement_no": agreement,
                    "advance_min_ratio": "10",
                    "monthly_min_ratio": "20",
                },
            ),
            (
                "account_opening",
                {
                    "agreement_no": agreement,
                    "unit_id": gc_unit.id,
                    "bank_name": bank,
                    "bank_branch_code": branch,
                    "account_name": f"{gc_unit.enterprise.name}农民工工资专用账户",
                },
            ),
            (
                "wage_deposit",
                {
                    "unit_id": gc_unit.id,
                    "deposit_method": "银行保函",
                    "institution": "中国建设银行青海省分行",
                    "amount": "500000.00",
                    "start_date": (today - dt.timedelta(days=80)).isoformat(),
                    "end_date": (today + dt.timedelta(days=285)).isoformat(),
                },
            ),
        ]
        for kind, data in forms:
            file_id = await attachment("Wage account material", "工资专户材料.pdf")
            await materials.register_wage_material(gc, kind, {**data, "file_id": file_id})


# --- 指令记录 ------------------------------------------------------------------------------------


async def _device_commands(project: Project, today: dt.date) -> None:
    """The terminal was sent every person and its face photos (both done); a push to the
    handset, which roams offline, waits for its next contact."""
    devices = {d.kind: d for d in await Device.filter(project_id=project.id)}
    terminal, handset = devices.get(DeviceKind.ATTENDANCE), devices.get(DeviceKind.MOBILE)
    if terminal is None or handset is None:
        return
    if await DeviceCommand.exists(device_id__in=[terminal.id, handset.id]):
        return
    gc = await _unit_access(project, UnitRole.GENERAL_CONTRACTOR)
    by = f"{gc.principal.kind}:{gc.principal.account_id}" if gc else ""
    for type_, params, days_ago, result in (
        ("sync_persons", {"full": True}, 6, "已下发人员信息"),
        ("upload_faces", {}, 4, "已上传人脸照片"),
    ):
        cmd = await commands.queue_command(terminal, type_, params, created_by=by)
        await commands.due_commands(terminal)  # the terminal's next heartbeat collects it
        await commands.ack_command(terminal, cmd.id, True, result)
        sent = _at(today - dt.timedelta(days=days_ago), 8, 5)
        await DeviceCommand.filter(id=cmd.id).update(
            created_at=sent - dt.timedelta(minutes=2),
            sent_at=sent,
            finished_at=sent + dt.timedelta(seconds=40),
        )
    await commands.queue_command(handset, "sync_persons", {"full": False}, created_by=by)


# --- all of it -----------------------------------------------------------------------------------

Step = Callable[[Project, dt.date, FileStore], Awaitable[None]]


async def seed_activity(codes: list[str], today: dt.date, store: FileStore) -> dict[str, int]:
    """Create what is missing on the demo projects; return how many of each the projects hold."""
    await _announcements(today)
    projects = await Project.filter(code__in=codes).order_by("code")
    for project in projects:
        await _status_changes(project, today, store)
        await _contracts(project, today, store)
        await _supplements(project, today, store)
        await _binding_requests(project, today)
        await _duty(project, today, store)
        await _materials(project, today, store)
        await _device_commands(project, today)
    return await activity_counts([p.id for p in projects])


async def activity_counts(project_ids: list[int]) -> dict[str, int]:
    """The demo activity held by these projects, by kind (the seed's summary)."""
    states = Counter(
        str(s)
        for s in await StatusChangeRequest.filter(project_id__in=project_ids).values_list(
            "state", flat=True
        )
    )
    supplements_by_state = Counter(
        str(s)
        for s in await SupplementRequest.filter(project_id__in=project_ids).values_list(
            "state", flat=True
        )
    )
    member_persons = await ProjectMember.filter(project_id__in=project_ids).values_list(
        "person_id", flat=True
    )
    return {
        "announcements": await Announcement.filter(withdrawn_at__isnull=True).count(),
        "status_changes_pending": states["pending"],
        "status_changes_decided": states["approved"] + states["rejected"],
        "supplements_pending": supplements_by_state["pending"],
        "supplements_decided": supplements_by_state["approved"] + supplements_by_state["rejected"],
        "binding_requests_pending": await BindingRequest.filter(
            person_id__in=list(set(member_persons)), status=BindingRequestStatus.PENDING
        ).count(),
        "contracts_terminated": await LabourContract.filter(
            project_id__in=project_ids, status=ContractStatus.TERMINATED
        ).count(),
        "duty_records": await DutyRecord.filter(project_id__in=project_ids).count(),
        "monthly_reports": await MonthlyReport.filter(project_id__in=project_ids).count(),
        "wage_materials": await WageAccountMaterial.filter(project_id__in=project_ids).count(),
        "device_commands": await DeviceCommand.filter(project_id__in=project_ids).count(),
    }
