"""The workbench (工作台): materials upload state, attendance summary, to-dos, announcements,
the twelve monthly-report months of a year, and the projects to switch between."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models import Device, PersonType, ProjectMember, WorkStatus
from services import (
    announcements,
    attendance,
    contracts,
    devices,
    localtime,
    materials,
    rules,
    status_change,
    supplement,
)
from services.identity import ProjectAccess, accessible_projects

ANNOUNCEMENT_COUNT = 6


async def missing_wage_card_count(access: ProjectAccess) -> int:
    """Rule 5: active labour members the caller sees still without work type or wage card."""
    members = await access.rows(
        ProjectMember.filter(
            project_id=access.project.id,
            work_status=WorkStatus.ACTIVE,
            person_type=PersonType.LABOUR,
        )
    )
    return sum(1 for m in members if rules.wage_card_block(m))


async def offline_device_count(project_id: int) -> int:
    """Devices bound to the project that are offline (stale contact or forced offline)."""
    now = localtime.now()
    return sum(
        1 for d in await Device.filter(project_id=project_id) if not devices.is_online(d, now)
    )


async def todos(access: ProjectAccess, today: dt.date) -> dict[str, Any]:
    """待办事项: approvals waiting for me and the project's warnings, with counts."""
    project = access.project
    warnings = (await contracts.warning_summary(access, today))["counts"]
    waiting = await supplement.pending_for(access.principal)
    items = [
        {
            "key": "status_change_reviews",
            "label": "项目状态变更待审核",
            "count": await status_change.pending_review_count(access.principal, project.id),
        },
        {
            "key": "supplement_approvals",
            "label": "考勤补录待审批",
            "count": sum(1 for r in waiting if r.get("project_code") == project.code),
        },
        {
            "key": "contract_red",
            "label": "合同红色预警（超过30天未签合同）",
            "count": warnings[contracts.RED],
        },
        {
            "key": "contract_orange",
            "label": "合同橙色预警（超过10天未签合同）",
            "count": warnings[contracts.ORANGE],
        },
        {
            "key": "offline_devices",
            "label": "离线设备",
            "count": await offline_device_count(project.id),
        },
        {
            "key": "missing_wage_card",
            "label": "人员缺少工种或工资卡",
            "count": await missing_wage_card_count(access),
        },
    ]
    return {"total": sum(i["count"] for i in items), "items": items, "contract_warnings": warnings}


async def monthly_report_months(project_id: int, year: int) -> dict[str, Any]:
    """材料月报上传: months 1–12 of `year`, registered or not."""
    done = await materials.registered_months(project_id, year)
    return {
        "year": year,
        "months": [
            {
                "month": m,
                "registered": m in done,
                "state_label": "已登记" if m in done else "未登记",
            }
            for m in range(1, 13)
        ],
    }


async def workbench(access: ProjectAccess, year: int | None = None) -> dict[str, Any]:
    """Everything the workbench shows for one project, from the caller's point of view."""
    project = access.project
    today = localtime.project_today(project)
    notices, notice_total = await announcements.for_project(project, 1, ANNOUNCEMENT_COUNT)
    mine = await accessible_projects(access.principal)
    return {
        "project": {"code": project.code, "name": project.name, "status": project.status},
        "materials": await materials.workbench_materials(project.id),
        "attendance": await attendance.workbench_summary(access, today),
        "todos": await todos(access, today),
        "announcements": {"data": notices, "total": notice_total},
        "monthly_reports": await monthly_report_months(project.id, year or today.year),
        "my_projects": [
            {"code": p.code, "name": p.name, "status": p.status, "current": p.id == project.id}
            for p in mine
        ],
    }
