"""Run as ``python -m tests.foundation.demo_probe`` on a seeded demo database (``DATABASE_URL``):
prints, as JSON, what the demo holds of each kind and what its users' screens would list —
the regulators' review queues, a worker's announcements, the approval queues of the walked
project's post personnel, its binding requests and its workbench to-dos. Read by test_demo."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from config.settings import Settings
from models import (
    AccountKind,
    DailyAttendance,
    ParticipatingUnit,
    PersonType,
    Post,
    Project,
    ProjectMember,
    Punch,
    UnitRole,
)
from models.announcements import Announcement
from models.approvals import StatusChangeRequest
from models.binding import BindingRequest
from models.contracts import ContractStatus, LabourContract
from models.devices import DeviceCommand
from models.duty import DutyRecord
from models.files import StoredFile
from models.materials import MaterialVoucher, MonthlyReport, WageAccountMaterial
from models.supplement import SupplementRequest, SupplementStep
from realname.commands._common import database

REGIONS = ("630000", "630100", "630102", "630200", "632500")
WALKED = "QH-DEMO-001"


async def _counts() -> dict[str, int]:
    return {
        "announcement": await Announcement.all().count(),
        "status_change": await StatusChangeRequest.all().count(),
        "supplement": await SupplementRequest.all().count(),
        "supplement_step": await SupplementStep.all().count(),
        "binding_request": await BindingRequest.all().count(),
        "contract_terminated": await LabourContract.filter(
            status=ContractStatus.TERMINATED
        ).count(),
        "duty_record": await DutyRecord.all().count(),
        "monthly_report": await MonthlyReport.all().count(),
        "material_voucher": await MaterialVoucher.all().count(),
        "wage_material": await WageAccountMaterial.all().count(),
        "device_command": await DeviceCommand.all().count(),
        "stored_file": await StoredFile.all().count(),
    }


async def _post_person(project: Project, role: UnitRole, post: Post) -> Any:
    from services.identity import Principal

    member = await ProjectMember.get(project_id=project.id, post=post, unit__role=role)
    return Principal(kind=AccountKind.PERSON, account_id=0, person_id=member.person_id)


async def probe() -> dict[str, Any]:
    from services import accounts, binding, personal, status_change, supplement, workbench
    from services.identity import Principal, compute_access, principal_for_account

    out: dict[str, Any] = {"counts": await _counts(), "queues": {}}
    for region in REGIONS:
        regulator = principal_for_account(await accounts.regulator_account(region))
        out["queues"][region] = {
            state: (await status_change.review_queue(regulator, state, 1, 50))[1]
            for state in ("pending", "done")
        }
    project = await Project.get(code=WALKED)
    worker = await ProjectMember.filter(
        project_id=project.id, person_type=PersonType.LABOUR
    ).first()
    assert worker is not None
    me = Principal(kind=AccountKind.PERSON, account_id=0, person_id=worker.person_id)
    out["worker_announcements"] = (await personal.announcements_for(me, 1, 20))[1]
    out["walked_approvals"] = {
        post.value: len(await supplement.pending_for(await _post_person(project, role, post)))
        for role, post in (
            (UnitRole.GENERAL_CONTRACTOR, Post.LABOUR_OFFICER),
            (UnitRole.GENERAL_CONTRACTOR, Post.PROJECT_MANAGER),
            (UnitRole.SUPERVISOR, Post.CHIEF_SUPERVISOR),
        )
    }
    gc = await ParticipatingUnit.get(
        project_id=project.id, role=UnitRole.GENERAL_CONTRACTOR
    ).prefetch_related("enterprise")
    account = await accounts.enterprise_account(gc.enterprise.credit_code)
    access = await compute_access(principal_for_account(account), project)
    out["walked_binding_requests"] = len(await binding.requests_for_project(access))
    # members who left: nothing accepted or settled after their exit date
    left = await ProjectMember.filter(exit_date__isnull=False).values("id", "exit_date")
    after = 0
    for m in left:
        after += await Punch.filter(
            member_id=m["id"], local_date__gt=m["exit_date"], status="accepted"
        ).count()
        after += await DailyAttendance.filter(member_id=m["id"], day__gt=m["exit_date"]).count()
    out["leavers"] = len(left)
    out["attended_after_leaving"] = after
    out["walked_open_status_change"] = await StatusChangeRequest.exists(
        project_id=project.id, state="pending"
    )
    pm_access = await compute_access(
        await _post_person(project, UnitRole.GENERAL_CONTRACTOR, Post.PROJECT_MANAGER), project
    )
    today = project.created_at.date()  # any day: only the approval counts are read
    todos = await workbench.todos(pm_access, today)
    out["pm_todos"] = {i["key"]: i["count"] for i in todos["items"]}
    return out


async def main() -> None:
    async with database(Settings()):
        sys.stdout.write(json.dumps(await probe(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
