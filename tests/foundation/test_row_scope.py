"""One row scope: every list, statistic and export shows a caller exactly the rows of its units.

A project with a general contractor, a labour subcontractor and a specialty subcontractor, each
with a team, labour members (one with a contract in force, one unsigned), a labour officer,
punches and a supplementary-attendance request. Each unit's staff — the company's enterprise
account and its labour officer signing in personally — calls every list, statistic and export:
a subcontractor's staff see exactly their own unit's rows (and a 404 for another unit's member
or team), the general contractor, builder, supervisor and the region's regulator see every row.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest
from tortoise import connections

from models import (
    Account,
    AccountKind,
    Direction,
    ParticipatingUnit,
    PersonType,
    Post,
    ProjectMember,
    Team,
    UnitRole,
)
from models.binding import BindingRequest
from models.files import StoredFile
from models.supplement import SupplementRequest
from services import attendance, identity, localtime
from services.member_filter import StatsFilter
from services.scope import RowScope
from tests import factories
from tests.attendance.helpers import at, punch
from tests.factories import auth
from tests.suite import uid

MONTH = "2025-03"
DAY = dt.date(2025, 3, 12)
ENTRY = dt.date(2025, 3, 1)  # long enough ago for every unsigned member to be a red warning
UNITS = ("gc", "labour", "specialty")  # the units with members
ALL = ("builder", "supervisor", *UNITS)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@dataclass
class Unit:
    unit: ParticipatingUnit
    team: Team | None = None
    signed: ProjectMember | None = None  # a labour member with a contract in force
    unsigned: ProjectMember | None = None
    officer: ProjectMember | None = None  # the unit's labour officer (劳务员)
    officer_person: Any = None
    photo_punch: Any = None  # a punch of `signed` with a photo
    file_ids: list[int] = field(default_factory=list)  # contract attachment, supplement evidence

    @property
    def members(self) -> list[ProjectMember]:
        return [m for m in (self.signed, self.unsigned, self.officer) if m is not None]


@dataclass
class World:
    world: Any
    units: dict[str, Unit] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # member id -> person name
    numbers: dict[int, tuple[str, str]] = field(default_factory=dict)  # -> (ID number, phone)

    def members(self, keys: tuple[str, ...]) -> set[int]:
        return {m.id for k in keys for m in self.units[k].members}

    def labour(self, keys: tuple[str, ...], attr: str) -> set[int]:
        return {getattr(self.units[k], attr).id for k in keys if k in UNITS}

    def teams(self, keys: tuple[str, ...]) -> set[int]:
        return {self.units[k].team.id for k in keys if k in UNITS}  # type: ignore[union-attr]


async def scope_world(files: Any) -> World:
    """The project described in the module docstring (punch photos stored in `files`)."""
    base = await factories.make_project(region="630102")
    w = World(base)
    w.units["builder"] = Unit(base.builder)
    assert base.supervisor is not None
    w.units["supervisor"] = Unit(base.supervisor)
    w.units["gc"] = Unit(base.gc, team=base.team)
    for key, role in (("labour", UnitRole.LABOUR_SUB), ("specialty", UnitRole.SPECIALTY_SUB)):
        ent = await factories.make_enterprise()
        base.enterprises[key] = ent
        unit = await ParticipatingUnit.create(
            project=base.project, enterprise=ent, role=role, entry_date=ENTRY
        )
        team = await Team.create(project=base.project, unit=unit, name=uid(f"{key}班组"))
        w.units[key] = Unit(unit, team=team)
    pairs = []
    for key in UNITS:
        u = w.units[key]
        for attr in ("signed", "unsigned"):
            person, number, phone = await factories.make_person(name=uid(f"{key}{attr}"))
            member = await factories.make_member(base, person=person, unit=u.unit, entry_date=ENTRY)
            w.numbers[member.id] = (number, phone)
            member.team = u.team
            await member.save()
            setattr(u, attr, member)
            await punch(member, at(DAY, 8), Direction.IN)
            await punch(member, at(DAY, 17), Direction.OUT)
            pairs.append((member.id, DAY))
        today = localtime.project_today(base.project)  # on site today: the workbench summary
        await punch(u.signed, at(today, 7), Direction.IN)
        pairs.append((u.signed.id, today))
        key = await files.put(JPEG, prefix="punch", suffix=".jpg", content_type="image/jpeg")
        u.photo_punch = await punch(u.signed, at(DAY, 12), Direction.IN, photo_key=key)
        u.officer_person, _, _ = await factories.make_person(name=uid(f"{key}劳务员"))
        u.officer = await factories.make_member(
            base,
            person=u.officer_person,
            unit=u.unit,
            person_type=PersonType.MANAGEMENT,
            post=Post.LABOUR_OFFICER,
            entry_date=ENTRY,
        )
        attachment, evidence = [
            await StoredFile.create(
                key=await files.put(JPEG, prefix=purpose, suffix=".jpg", content_type="image/jpeg"),
                name=f"{purpose}.jpg",
                content_type="image/jpeg",
                size=len(JPEG),
                sha256="0" * 64,
                project=base.project,
                purpose=purpose,
            )
            for purpose in ("contract", "evidence")
        ]
        u.file_ids = [attachment.id, evidence.id]
        await factories.make_contract(u.signed, attachment=attachment, start_date=ENTRY)
        account = await Account.create(kind=AccountKind.PERSON, display_name="微信用户")
        await BindingRequest.create(
            account=account, person_id=u.unsigned.person_id, reason="phone_mismatch"
        )
        await SupplementRequest.create(
            project=base.project,
            member=u.unsigned,
            day=DAY,
            reason="忘记打卡",
            chain=["gc_labour_officer", "gc_project_manager", "chief_supervisor"],
            requester_kind="enterprise",
            requester_id="0",
            evidence=[evidence.id],
        )
    await attendance.settle_days(base.project.id, pairs)
    for m in await ProjectMember.filter(project_id=base.project.id).prefetch_related("person"):
        w.names[m.id] = m.person.name  # type: ignore[attr-defined]
    return w


# Who calls, and which units' rows they must see.
CALLERS = {
    "gc": ALL,
    "gc_officer": ALL,
    "builder": ALL,
    "supervisor": ALL,
    "regulator": ALL,
    "labour": ("labour",),
    "labour_officer": ("labour",),
    "specialty": ("specialty",),
    "specialty_officer": ("specialty",),
}


async def _headers(redis: Any, w: World, caller: str) -> dict[str, str]:
    if caller == "regulator":
        return auth(await factories.regulator_token(redis, "630100"))  # the city over 630102
    if caller.endswith("_officer"):
        return auth(
            await factories.person_token(redis, w.units[caller[: -len("_officer")]].officer_person)
        )
    return auth(await factories.enterprise_token(redis, w.world.enterprises[caller]))


def _xlsx_names(content: bytes) -> set[str]:
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    col = list(rows[0]).index("姓名")
    return {r[col] for r in rows[1:]}


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_each_caller_sees_exactly_its_units_rows(app, client, redis, caller: str) -> None:
    w = await scope_world(app.ctx.files)
    sees = CALLERS[caller]
    hidden = tuple(k for k in UNITS if k not in sees)
    headers = await _headers(redis, w, caller)
    base = f"/admin/v1/projects/{w.world.project.code}"
    wrong: list[str] = []

    async def get(path: str, **params: Any) -> Any:
        r = await client.get(base + path, params=params, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r

    def check(what: str, got: Any, want: Any) -> None:
        if got != want:
            wrong.append(f"{what}: got {sorted(got)}, want {sorted(want)}")

    members = w.members(sees)
    names = {w.names[i] for i in members}
    for kind in ("punch-stats", "duration-stats"):
        body = (await get(f"/attendance/{kind}", month=MONTH, page_size=500)).json()
        check(kind, {row["member_id"] for row in body["data"]}, members)
        check(f"{kind} total", {body["total"]}, {len(members)})
        r = await get(f"/attendance/{kind}", month=MONTH, format="xlsx")
        check(f"{kind} export", _xlsx_names(r.content), names)
        # a filter naming another unit or its team finds nothing
        for k in hidden:
            unit_id, team_id = w.units[k].unit.id, w.units[k].team.id  # type: ignore[union-attr]
            body = (await get(f"/attendance/{kind}", month=MONTH, unit=unit_id)).json()
            check(f"{kind} unit={k}", {row["member_id"] for row in body["data"]}, set())
            body = (await get(f"/attendance/{kind}", month=MONTH, team=team_id)).json()
            check(f"{kind} team={k}", {row["member_id"] for row in body["data"]}, set())
    body = (await get("/roster", page_size=500)).json()
    check("roster", {row["id"] for row in body["data"]}, members)
    check("roster export", _xlsx_names((await get("/roster/export")).content), names)
    body = (await get("/teams", page_size=500)).json()
    check("teams", {row["id"] for row in body["data"]}, w.teams(sees))
    body = (await get("/contracts/unsigned", page_size=500)).json()
    check("contracts/unsigned", {row["id"] for row in body["data"]}, w.labour(sees, "unsigned"))
    body = (await get("/contracts/warnings")).json()
    check("contracts/warnings red", {body["counts"]["red"]}, {len(w.labour(sees, "unsigned"))})
    body = (await get("/contracts", status="active", page_size=500)).json()
    check("contracts", {row["member_id"] for row in body["data"]}, w.labour(sees, "signed"))
    body = (await get("/supplements", page_size=500)).json()
    check("supplements", {row["member"]["id"] for row in body["data"]}, w.labour(sees, "unsigned"))
    officers = {w.units[k].officer.id for k in sees if k in UNITS}  # type: ignore[union-attr]
    got = set()
    for category in ("gc", "sub"):
        body = (await get("/posts", category=category, page_size=500)).json()
        got |= {row["id"] for row in body["data"]}
    check("posts", got, officers)

    for k in hidden:  # nor can a supplementary-attendance request be filed for them
        body = {"member_id": w.units[k].signed.id, "date": "2025-03-13", "in_time": "08:00"}  # type: ignore[union-attr]
        r = await client.post(
            base + "/supplements", json={**body, "reason": "忘记打卡"}, headers=headers
        )
        if r.status_code != 404:
            wrong.append(f"POST /supplements for {k}: {r.status_code}, want 404")
    for k in UNITS:  # a contract attachment, a supplement's evidence
        for file_id in w.units[k].file_ids:
            r = await client.get(f"{base}/files/{file_id}", headers=headers)
            if r.status_code != (200 if k in sees else 404):
                wrong.append(f"files/{file_id} of {k}: {r.status_code}")
    for k in UNITS:  # a punch photo
        path = f"/attendance/punches/{w.units[k].photo_punch.id}/photo"
        r = await client.get(base + path, headers=headers)
        if r.status_code != (200 if k in sees else 404):
            wrong.append(f"{path} of {k}: {r.status_code}, want {200 if k in sees else 404}")
    if caller not in ("builder", "supervisor", "regulator"):  # search by ID number (VIEW_PII)
        for k in UNITS:
            member = w.units[k].signed
            assert member is not None
            number = w.numbers[member.id][0]
            r = await client.post(
                base + "/persons/search", json={"id_number": number}, headers=headers
            )
            assert r.status_code == 200, r.text
            full = r.json()["id_number"] == number
            if full != (k in sees):
                wrong.append(f"persons/search of {k}: full ID number {full}")
    if caller not in ("builder", "supervisor", "regulator"):  # the labour officers' queue
        body = (await get("/binding-requests")).json()
        want = {w.names[i] for i in w.labour(sees, "unsigned")}
        check("binding-requests", {row["person"]["name"] for row in body["data"]}, want)
        for k in hidden:
            req = await BindingRequest.get(person_id=w.units[k].unsigned.person_id)  # type: ignore[union-attr]
            path = f"/binding-requests/{req.id}/reject"
            r = await client.post(base + path, json={"note": "不是本人"}, headers=headers)
            if r.status_code != 404:
                wrong.append(f"{path} of {k}: {r.status_code}, want 404")

    # The workbench's figures count the same members: on site today, contract warnings, the
    # members missing a wage card (none here); the mini-program's summary for post personnel.
    on_site = {w.units[k].unit.id for k in sees if k in UNITS}
    summary = (await get("/attendance/summary")).json()
    check("summary on site", {u["unit_id"] for u in summary["on_site_by_unit"]}, on_site)
    check("summary total", {summary["on_site_total"]}, {len(on_site)})
    bench = (await get("/workbench")).json()
    check("workbench on site", {bench["attendance"]["on_site_total"]}, {len(on_site)})
    red = {i["count"] for i in bench["todos"]["items"] if i["key"] == "contract_red"}
    check("workbench red", red, {len(w.labour(sees, "unsigned"))})
    if caller.endswith("_officer"):
        r = await client.get(
            f"/miniapp/v1/projects/{w.world.project.code}/summary", headers=headers
        )
        assert r.status_code == 200, r.text
        mini = r.json()
        check("miniapp on site", {mini["on_site_today"]}, {len(on_site)})
        active = mini["members_active"]["labour"] + mini["members_active"]["management"]
        check("miniapp members", {active}, {len(members)})
        check("miniapp red", {mini["contract_warnings"]["counts"]["red"]}, red)

    # One record of another unit is not found (no probing by id); one's own is.
    for k in UNITS:
        u = w.units[k]
        want = 200 if k in sees else 404
        assert u.team is not None and u.unsigned is not None
        for path, params in (
            (f"/teams/{u.team.id}", {}),
            (f"/teams/{u.team.id}/members", {}),
            (f"/members/{u.unsigned.id}", {}),
            (f"/attendance/members/{u.unsigned.id}/punches", {"date": DAY.isoformat()}),
            (f"/attendance/members/{u.unsigned.id}/month", {"month": MONTH}),
            (f"/supplements/{(await SupplementRequest.get(member_id=u.unsigned.id)).id}", {}),
        ):
            r = await client.get(base + path, params=params, headers=headers)
            if r.status_code != want:
                wrong.append(f"{path} of {k}: {r.status_code}, want {want}")
    assert not wrong, f"{caller} sees the wrong rows:\n" + "\n".join(wrong)


async def test_project_switcher_lists_only_projects_the_caller_can_open(client, redis) -> None:
    """A person working as labour on one project and labour officer on another: the switcher
    offers only the second (the first answers 404: a worker has no standing on the web side)."""
    worked, posted = await factories.make_project(), await factories.make_project()
    person, _, _ = await factories.make_person()
    await factories.make_member(worked, person=person)
    await factories.make_member(
        posted, person=person, person_type=PersonType.MANAGEMENT, post=Post.LABOUR_OFFICER
    )
    headers = auth(await factories.person_token(redis, person))
    r = await client.get("/admin/v1/projects", headers=headers)
    assert r.status_code == 200, r.text
    assert [row["code"] for row in r.json()["data"]] == [posted.project.code]
    me = (await client.get("/admin/v1/auth/me", headers=headers)).json()
    assert [p["code"] for p in me["projects"]] == [posted.project.code]
    for world, status in ((posted, 200), (worked, 404)):
        r = await client.get(f"/admin/v1/projects/{world.project.code}", headers=headers)
        assert r.status_code == status, r.text


@pytest.mark.parametrize("caller", ["gc", "labour", "specialty_officer"])
async def test_stats_filter_orm_and_sql_agree(app, client, redis, caller: str) -> None:
    """The statistics filter and the row scope, rendered as a queryset (exports) and as SQL
    (pages), select the same members for every filter, and only members the caller sees."""
    w = await scope_world(app.ctx.files)
    token = (await _headers(redis, w, caller))["Authorization"].split()[1]
    access = await identity.project_access(
        await identity.resolve_token(redis, token), w.world.project.code
    )
    sees = w.members(CALLERS[caller])
    labour = w.units["labour"]
    signed = labour.signed
    assert signed is not None and labour.team is not None
    number, phone = w.numbers[signed.id]
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    for f in (
        StatsFilter(),
        StatsFilter(person_type="labour"),
        StatsFilter(person_type="management", work_status="active"),
        StatsFilter(work_status="left"),
        StatsFilter(unit_id=labour.unit.id),
        StatsFilter(team_id=labour.team.id),
        StatsFilter(q=w.names[signed.id][:8]),
        StatsFilter(q=w.names[signed.id][:8].upper()),
        StatsFilter(q=number),
        StatsFilter(q=phone),
        StatsFilter(q="%"),
        StatsFilter(q="_"),
        StatsFilter(q="劳务员"),
    ):
        orm = set(await f.queryset(access).values_list("id", flat=True))
        parts, params = f.where(access)
        sql = (
            "SELECT m.id FROM project_member m JOIN person p ON p.id = m.person_id WHERE "
            + " AND ".join(parts)
        )
        marks = [f"${i}" for i in range(1, len(params) + 1)] if pg else ["?"] * len(params)
        _, rows = await conn.execute_query(sql.format(*marks), params)
        assert {r[0] for r in rows} == orm, f
        assert orm <= sees, f
    assert set(await StatsFilter().queryset(access).values_list("id", flat=True)) == sees


GC, BUILDER, SUPERVISOR = UnitRole.GENERAL_CONTRACTOR, UnitRole.BUILDER, UnitRole.SUPERVISOR
LABOUR, SPECIALTY = UnitRole.LABOUR_SUB, UnitRole.SPECIALTY_SUB


@pytest.mark.parametrize(
    ("roles", "visible", "managed"),
    [
        ({GC}, None, None),
        ({BUILDER}, None, {1}),
        ({SUPERVISOR}, None, {1}),
        ({LABOUR}, {1}, {1}),
        ({SPECIALTY}, {1}, {1}),
        ({LABOUR, SPECIALTY}, {1}, {1}),
        ({LABOUR, GC}, None, None),  # a company that is also the GC sees and manages all
        ({SUPERVISOR, LABOUR}, None, {1}),
        (set(), {1}, {1}),
    ],
)
def test_row_scope_rule(roles: set[str], visible: set[int] | None, managed: set[int] | None):
    """The rule itself: the GC, builder and supervisor see every unit, the GC manages every
    unit, everyone else sees and manages its own units (here unit 1)."""
    scope = RowScope.of_units({str(r) for r in roles}, {1}, set(), can_manage=True)
    assert scope.visible == (None if visible is None else frozenset(visible))
    assert scope.managed == (None if managed is None else frozenset(managed))


def test_permit_key_posts_stand_for_their_units() -> None:
    """The permit's chief supervisor (no membership) sees every unit and manages the project's
    supervision units; the permit's PM manages every unit."""
    chief = RowScope.of_units({str(SUPERVISOR)}, set(), {5}, can_manage=True)
    assert chief.visible is None and chief.managed == frozenset({5})
    pm = RowScope.of_units({str(GC)}, set(), {7}, can_manage=True)
    assert pm.visible is None and pm.managed is None
