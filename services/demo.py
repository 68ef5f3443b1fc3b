"""Demo data: a realistic slice of Qinghai, so a newcomer sees a living system (seed-demo).

Deterministic (fixed random seed) and idempotent: projects are upserted through the permit import,
and people, teams, devices and punches are only created when the demo project has none yet. The
work done since (announcements, requests and their reviews, contracts ended, duty records,
materials, device commands) is added by `services.demo_activity`, each kind only where missing.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc

from models import (
    Device,
    DeviceKind,
    Direction,
    Enterprise,
    ParticipatingUnit,
    Person,
    PersonType,
    Post,
    Project,
    ProjectMember,
    Punch,
    PunchSource,
    PunchStatus,
    Team,
    UnitRole,
)
from models.contracts import ContractStatus, LabourContract
from realname.storage import FileStore
from services import localtime, pii
from services.attendance import settle_days
from services.demo_activity import seed_activity
from services.projects import import_projects
from services.rules import punch_block_reasons

TZ = ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗韩冶祁鲁星才索"
GIVEN = [
    "建国",
    "海军",
    "春兰",
    "卓玛",
    "永福",
    "志强",
    "明",
    "才让",
    "德吉",
    "国庆",
    "秀英",
    "文斌",
    "小龙",
    "桂花",
    "成林",
    "宏伟",
    "拉毛",
    "扎西",
    "玉梅",
    "鹏",
    "军",
    "晓东",
    "海燕",
    "学林",
]
WORK_TYPES = [
    "钢筋工",
    "木工",
    "混凝土工",
    "架子工",
    "砌筑工",
    "电工",
    "焊工",
    "抹灰工",
    "普工",
    "防水工",
]
ETHNICITIES = ["汉族", "汉族", "汉族", "回族", "藏族", "土族", "撒拉族", "蒙古族"]
BIRTH_REGIONS = ["630102", "630121", "630123", "630202", "630222", "632521", "632523", "632801"]
BANKS = [
    ("中国工商银行", "102851000016"),
    ("中国农业银行", "103851000015"),
    ("中国建设银行", "105851000011"),
    ("青海银行", "313851000018"),
]


def _credit_code(rng: random.Random, region: str) -> str:
    body = (
        "9163"
        + region[2:6]
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def _id_number(rng: random.Random) -> str:
    """A synthetic ID number that passes GB 11643 (birth place valid at the birth date)."""
    while True:
        birth = dt.date(1965 + rng.randint(0, 38), rng.randint(1, 12), rng.randint(1, 28))
        first17 = f"{rng.choice(BIRTH_REGIONS)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        number = first17 + ric.calc_check_digit(first17 + "0")
        if ric.is_valid(number):
            return number


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(str(rng.randint(0, 9)) for _ in range(9))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


PROJECTS: list[dict[str, Any]] = [
    {
        "code": "QH-DEMO-001",
        "name": "西宁市城东区康川保障性住房建设项目",
        "type": "房屋建筑工程",
        "region_code": "630102",
        "managing_level": "county",
        "permit_authority": "西宁市城东区住房和城乡建设局",
        "cost": "186500000.00",
        "members": 120,
        "supervisor": True,
    },
    {
        "code": "QH-DEMO-002",
        "name": "海东市平安区第二中学教学楼工程",
        "type": "房屋建筑工程",
        "region_code": "630203",
        "managing_level": "city",
        "permit_authority": "海东市住房和城乡建设局",
        "cost": "64230000.00",
        "members": 80,
        "supervisor": True,
    },
    {
        "code": "QH-DEMO-003",
        "name": "海南州贵德县水岸华庭建设项目施工工程",
        "type": "房屋建筑工程",
        "region_code": "632523",
        "managing_level": "county",
        "permit_authority": "贵德县住房和城乡建设局",
        "cost": "98000000.00",
        "members": 60,
        "supervisor": False,
    },
    {
        "code": "QH-DEMO-004",
        "name": "格尔木市昆仑路市政道路改造工程",
        "type": "市政公用工程",
        "region_code": "632801",
        "managing_level": "province",
        "permit_authority": "青海省住房和城乡建设厅",
        "cost": "241700000.00",
        "members": 60,
        "supervisor": True,
    },
]
COMPANY_NAMES = {
    "builder": [
        "西宁城市投资管理有限公司",
        "海东市平安区教育局",
        "贵德县诚信房地产开发有限公司",
        "格尔木市城市建设投资有限公司",
    ],
    "supervisor": [
        "青海州恒工程监理咨询有限公司",
        "青海瀚阳项目管理咨询有限公司",
        "",
        "青海昆仑工程监理有限公司",
    ],
    "general_contractor": [
        "青海高原建设工程有限公司",
        "青海善华建设工程有限公司",
        "青海河湟建筑工程有限公司",
        "青海路桥建设集团有限公司",
    ],
    "labour_sub": [
        "西宁河湟劳务分包有限公司",
        "海东雪域劳务有限公司",
        "贵德黄河劳务有限公司",
        "格尔木盐湖劳务有限公司",
    ],
}


async def standin_companies() -> list[dict[str, str]]:
    """Companies offered on the dev SSO stand-in's login page: the demo's participating units."""
    rows = (
        await Enterprise.filter(participations__project__code__startswith="QH-DEMO")
        .distinct()
        .order_by("name")
        .values("credit_code", "name")
    )
    extra = {"credit_code": "91630100MA7QHX0000", "name": "（演示）未参建任何项目的企业"}
    extra["credit_code"] = extra["credit_code"][:17] + uscc.calc_check_digit(
        extra["credit_code"][:17]
    )
    return [{"credit_code": r["credit_code"], "name": r["name"]} for r in rows] + [extra]


def _permit_rows(
    rng: random.Random,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, str]]]]:
    """Permit rows for the demo projects, and their named persons by project code and role."""
    rows: list[dict[str, Any]] = []
    people: dict[str, dict[str, dict[str, str]]] = {}
    for i, p in enumerate(PROJECTS):
        roles = ["builder", "general_contractor"] + (["supervisor"] if p["supervisor"] else [])
        units = [
            {
                "role": role,
                "name": COMPANY_NAMES[role][i],
                "credit_code": _credit_code(rng, p["region_code"]),
                "site_lead": _name(rng),
                "site_lead_phone": _phone(rng),
                "entry_date": "2026-03-01",
            }
            for role in roles
        ]
        # the general contractor's project manager; the supervisor's chief, where there is one
        posts = [("project_manager", units[1])]
        if p["supervisor"]:
            posts.append(("chief_supervisor", units[2]))
        key = []
        people[p["code"]] = {}
        for post, unit in posts:
            named = {"name": _name(rng), "id_number": _id_number(rng), "phone": _phone(rng)}
            people[p["code"]][post] = named
            key.append(
                {
                    "role": post,
                    "name": named["name"],
                    "id_number": named["id_number"],
                    "unit_credit_code": unit["credit_code"],
                }
            )
        rows.append(
            {
                "code": p["code"],
                "name": p["name"],
                "type": p["type"],
                "region_code": p["region_code"],
                "managing_level": p["managing_level"],
                "permit_number": f"{p['region_code']}202603{i + 1:02d}0101",
                "permit_authority": p["permit_authority"],
                "cost": p["cost"],
                "units": units,
                "key_personnel": key,
            }
        )
    return rows, people


async def _person(
    rng: random.Random, name: str | None = None, number: str | None = None, phone: str | None = None
) -> Person:
    c = pii.cipher()
    number = number or _id_number(rng)
    phone = phone or _phone(rng)
    existing = await Person.get_or_none(id_number_bidx=c.blind_index("id", number))
    if existing:
        return existing
    return await Person.create(
        name=name or _name(rng),
        **pii.id_number_columns(number),
        gender=pii.id_gender(number),
        birth_date=pii.id_birth_date(number),
        ethnicity=rng.choice(ETHNICITIES),
        address_enc=c.encrypt("青海省西宁市城东区建设路1号"),
        issuer="西宁市公安局城东分局",
        id_valid_from=dt.date(2018, 5, 1),
        id_valid_to=dt.date(2038, 5, 1),
        **pii.phone_columns(phone),
        enrolled_at=localtime.now(),
    )


async def _populate(
    project: Project,
    spec: dict[str, Any],
    people: dict[str, dict[str, str]],
    rng: random.Random,
    today: dt.date,
) -> dict[str, Any]:
    c = pii.cipher()
    units = {u.role: u for u in await ParticipatingUnit.filter(project=project)}
    gc = units[UnitRole.GENERAL_CONTRACTOR]
    i = PROJECTS.index(spec)
    sub_ent, _ = await Enterprise.get_or_create(
        credit_code=_credit_code(rng, spec["region_code"]),
        defaults={
            "name": COMPANY_NAMES["labour_sub"][i],
            "region_id": spec["region_code"],
            "registered_on": dt.date(2019, 4, 18),
        },
    )
    sub, _ = await ParticipatingUnit.get_or_create(
        project=project,
        enterprise=sub_ent,
        role=UnitRole.LABOUR_SUB,
        defaults={
            "site_lead": _name(rng),
            "entry_date": today - dt.timedelta(days=60),
            "specialty": "劳务分包",
        },
    )
    teams = [
        await Team.create(project=project, unit=unit, name=name, leader=_name(rng))
        for unit, name in (
            (gc, "钢筋班组"),
            (gc, "木工班组"),
            (sub, "混凝土班组"),
            (sub, "架子工班组"),
        )
    ]
    # Post personnel: the permit's PM and chief supervisor (enrolled), plus a GC labour officer.
    posts = [(gc, Post.PROJECT_MANAGER, people["project_manager"])]
    if UnitRole.SUPERVISOR in units:
        posts.append(
            (units[UnitRole.SUPERVISOR], Post.CHIEF_SUPERVISOR, people["chief_supervisor"])
        )
    posts.append(
        (
            gc,
            Post.LABOUR_OFFICER,
            {"name": _name(rng), "id_number": _id_number(rng), "phone": _phone(rng)},
        )
    )
    for unit, post, who in posts:
        person = await _person(rng, who["name"], who["id_number"], who["phone"])
        await ProjectMember.get_or_create(
            project=project,
            person=person,
            defaults={
                "unit": unit,
                "person_type": PersonType.MANAGEMENT,
                "post": post,
                "entry_date": today - dt.timedelta(days=90),
            },
        )
    members: list[ProjectMember] = []
    for n in range(spec["members"]):
        person = await _person(rng)
        team = teams[n % len(teams)]
        migrated_incomplete = n % 37 == 5  # from the old system, no wage card yet (rule 5)
        bank, branch = rng.choice(BANKS)
        card = (
            None
            if migrated_incomplete
            else "6222" + "".join(str(rng.randint(0, 9)) for _ in range(15))
        )
        entry = today - dt.timedelta(days=rng.choice([3, 8, 12, 20, 45, 60, 60, 75, 90]))
        members.append(
            await ProjectMember.create(
                project=project,
                person=person,
                unit=gc if team.unit_id == gc.id else sub,
                team=team,
                person_type=PersonType.LABOUR,
                work_type="" if migrated_incomplete else rng.choice(WORK_TYPES),
                entry_date=entry,
                bank_name="" if card is None else bank,
                bank_card_enc=c.encrypt(card),
                bank_card_masked=pii.mask_bank_card(card),
                bank_branch_code="" if card is None else branch,
                migrated=migrated_incomplete,
            )
        )
    # Most members have signed contracts; some (long on site) have not → warnings, red blocks.
    contracts = []
    for n, m in enumerate(members):
        if n % 9 == 0:
            continue
        contracts.append(
            LabourContract(
                project=project,
                member=m,
                number=f"HT-{project.code[-3:]}-{m.id:05d}",
                party_a=COMPANY_NAMES["general_contractor"][i],
                start_date=m.entry_date,
                end_date=m.entry_date + dt.timedelta(days=365),
                status=ContractStatus.ACTIVE,
                attachment_name="劳动合同.pdf",
            )
        )
    await LabourContract.bulk_create(contracts)
    # Devices: one of each kind, bound to the project.
    devices = {}
    for kind, maker, model in (
        (DeviceKind.ATTENDANCE, "德拓", "DT-F8"),
        (DeviceKind.COLLECTION, "德拓", "DT-C3"),
        (DeviceKind.MOBILE, "汉王", "HW-M2"),
    ):
        sn = f"{kind.value[:3].upper()}{project.code[-3:]}{rng.randint(100000, 999999)}"
        secret = secrets.token_hex(16)
        devices[kind] = (
            await Device.create(
                sn=sn,
                kind=kind,
                manufacturer=maker,
                model=model,
                project=project,
                enterprise_id=gc.enterprise_id,
                secret_enc=c.encrypt(secret),
                firmware="1.4.2",
                antispoof=kind == DeviceKind.ATTENDANCE,
                last_attendance_at=localtime.now() if kind != DeviceKind.COLLECTION else None,
                last_collection_at=localtime.now() if kind == DeviceKind.COLLECTION else None,
            ),
            secret,
        )
    await _punches(project, members, devices, rng, today)
    sn, secret = devices[DeviceKind.ATTENDANCE][0].sn, devices[DeviceKind.ATTENDANCE][1]
    return {
        "project": project.code,
        "members": len(members) + len(posts),
        "device_sn": sn,
        "device_secret": secret,
    }


async def _punches(
    project: Project,
    members: list[ProjectMember],
    devices: dict,
    rng: random.Random,
    today: dt.date,
) -> None:
    terminal = devices[DeviceKind.ATTENDANCE][0]
    handset = devices[DeviceKind.MOBILE][0]
    rows: list[Punch] = []
    pairs: set[tuple[int, dt.date]] = set()
    start = today - dt.timedelta(days=30)
    for day_offset in range(31):
        day = start + dt.timedelta(days=day_offset)
        blocked = await punch_block_reasons(members, day)
        for m in members:
            if day < m.entry_date or rng.random() < 0.12:  # not yet on site, or absent
                continue
            device = handset if rng.random() < 0.15 else terminal
            t_in = dt.datetime.combine(day, dt.time(7, rng.randint(20, 59)), TZ)
            t_out = dt.datetime.combine(day, dt.time(17, rng.randint(30, 59)), TZ)
            pattern = rng.random()
            plan = [(t_in, Direction.IN, True), (t_out, Direction.OUT, True)]
            if pattern < 0.05:
                plan = [(t_in, Direction.IN, True)]  # forgot to punch out → abnormal
            elif pattern < 0.08:
                plan = [(t_in, Direction.IN, False), (t_out, Direction.OUT, True)]  # no liveness
            elif pattern < 0.10:
                plan = [(t_out, Direction.IN, True), (t_in, Direction.OUT, True)]  # wrong mode
            if day == today:
                plan = [p for p in plan if p[0] <= localtime.now()]
            for t, direction, live in plan:
                reason = None if live else "no_liveness"
                reason = reason or blocked.get(m.id)
                rows.append(
                    Punch(
                        project=project,
                        member=m,
                        person_id=m.person_id,
                        device=device,
                        device_punch_id=f"{m.id}-{t:%Y%m%d%H%M}-{direction.value}",
                        time=t.astimezone(dt.UTC),
                        local_date=day,
                        direction=direction,
                        liveness=live,
                        source=PunchSource.MOBILE if device is handset else PunchSource.DEVICE,
                        status=PunchStatus.REJECTED if reason else PunchStatus.ACCEPTED,
                        reason=reason,
                    )
                )
                if not reason:
                    pairs.add((m.id, day))
    await Punch.bulk_create(rows, batch_size=2000)
    await settle_days(project.id, pairs, today)


async def seed_demo(store: FileStore, today: dt.date | None = None) -> dict[str, Any]:
    """Create the demo slice (idempotent); return a summary with one device's credentials and
    how much demo activity the projects hold (attachments are written to `store`)."""
    rng = random.Random(20261123)
    today = today or localtime.today(TZ)
    rows, people = _permit_rows(rng)
    result = await import_projects(rows)
    if result["errors"]:
        raise RuntimeError(f"demo permit data rejected: {result['errors']}")
    summary: dict[str, Any] = {
        "import": {k: result[k] for k in ("created", "updated")},
        "projects": [],
    }
    for spec in PROJECTS:
        project = await Project.get(code=spec["code"])
        if await ProjectMember.filter(project=project, person_type=PersonType.LABOUR).exists():
            summary["projects"].append({"project": project.code, "seeded": "already"})
            continue
        summary["projects"].append(await _populate(project, spec, people[spec["code"]], rng, today))
    summary["activity"] = await seed_activity([p["code"] for p in PROJECTS], today, store)
    return summary
