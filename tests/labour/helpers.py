"""Helpers for the labour tests: tokens per role, tiny files, an unenrolled person."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from models import ParticipatingUnit, Person, UnitRole
from services import pii
from services.team_import import HEADERS
from tests.factories import (
    ProjectWorld,
    auth,
    enterprise_token,
    make_enterprise,
    make_id_number,
    make_project,
    site_today,
)
from tests.suite import uid

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CARD = "6222021234567890123"
BRANCH = "102100099996"


def wage(**over: Any) -> dict[str, Any]:
    """A complete work type + wage card body."""
    body = {
        "work_type": "钢筋工",
        "bank_name": "中国工商银行",
        "bank_card": CARD,
        "bank_branch_code": BRANCH,
    }
    body.update(over)
    return body


async def headers_for(redis: Any, world: ProjectWorld, role: str) -> dict[str, str]:
    """Auth headers of one of the world's companies (builder, gc, supervisor)."""
    return auth(await enterprise_token(redis, world.enterprises[role]))


async def gc_world(redis: Any) -> tuple[ProjectWorld, dict[str, str]]:
    """A new project and its general contractor's auth headers."""
    world = await make_project()
    return world, await headers_for(redis, world, "gc")


async def add_subcontractor(
    world: ProjectWorld, role: str = UnitRole.LABOUR_SUB
) -> ParticipatingUnit:
    """A subcontractor unit on the world's project."""
    ent = await make_enterprise()
    world.enterprises[f"sub_{ent.id}"] = ent
    return await ParticipatingUnit.create(
        project=world.project, enterprise=ent, role=role, entry_date=site_today()
    )


async def unenrolled_person() -> tuple[Person, str]:
    """A person known (e.g. from the mini-program) but never enrolled by a collection machine."""
    number = make_id_number()
    person = await Person.create(name=uid("未采集"), **pii.id_number_columns(number))
    return person, number


def team_workbook(rows: list[tuple[Any, ...]], header: tuple[str, ...] = HEADERS) -> bytes:
    """An .xlsx of the team import template's sheet: `header`, then `rows`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
