"""Small factory helpers that make test data directly through the services and models."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from stdnum.cn import ric, uscc

from models import (
    Account,
    AccountKind,
    Enterprise,
    KeyPersonnel,
    ParticipatingUnit,
    Person,
    PersonType,
    Project,
    ProjectMember,
    Team,
    UnitRole,
)
from models.contracts import LabourContract
from services import accounts, identity, localtime, pii
from tests.suite import uid


def site_today() -> dt.date:
    """Today on the sites the factories create (their projects' zone, Asia/Shanghai), by the
    platform's clock: from 16:00 UTC it is already tomorrow there, so the machine's
    ``date.today()`` (UTC on CI) would put "6 days ago" on the 7th day and the month's first day
    in the previous month."""
    return localtime.today(localtime.zone("Asia/Shanghai"))


_rng = random.Random()

# Every ID number and phone number the factories hand out during the run: after the whole
# suite, no table may hold one of them in clear (``tests/plaintext_scan.py``).
GENERATED_ID_NUMBERS: set[str] = set()
GENERATED_PHONES: set[str] = set()

# A member made without an explicit entry date entered the project this many days ago, so
# punches of the last few days are plausible (a punch before the entry date is rejected as
# ``time_out_of_range``) and no contract warning is due yet (yellow after 5 days).
DEFAULT_ENTRY_DAYS_AGO = 5


def make_id_number(birth: dt.date | None = None, region: str = "632521", male: bool = True) -> str:
    """A valid synthetic resident ID number, never one handed out before in this run (retried
    until stdnum accepts the birth place and the number is new: random birth dates, sequence
    numbers and one region give ~6 M numbers, and a run makes thousands of persons — a repeat
    made a person's insert fail on the unique ID number index now and then)."""
    for _ in range(1000):
        born = birth or dt.date(
            1970 + _rng.randint(0, 35), _rng.randint(1, 12), _rng.randint(1, 28)
        )
        seq = _rng.randint(0, 49) * 2 + (1 if male else 0)
        first17 = f"{region}{born:%Y%m%d}{_rng.randint(0, 9)}{seq:02d}"
        number = first17 + ric.calc_check_digit(first17 + "0")
        if ric.is_valid(number) and number not in GENERATED_ID_NUMBERS:
            GENERATED_ID_NUMBERS.add(number)
            return number
    raise ValueError(f"no valid ID number for region {region} born {birth}")


def make_credit_code() -> str:
    """A valid synthetic unified social credit code."""
    body = "91630100" + "".join(_rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc.calc_check_digit(body)


def make_phone() -> str:
    """A synthetic mobile number."""
    phone = "1" + _rng.choice("3589") + "".join(str(_rng.randint(0, 9)) for _ in range(9))
    GENERATED_PHONES.add(phone)
    return phone


async def make_enterprise(name: str | None = None) -> Enterprise:
    return await Enterprise.create(name=name or uid("企业"), credit_code=make_credit_code())


async def make_person(
    name: str | None = None, id_number: str | None = None, phone: str | None = None
) -> tuple[Person, str, str]:
    """An enrolled person; returns (person, plaintext id number, plaintext phone)."""
    number = id_number or make_id_number()
    phone = phone or make_phone()
    person = await Person.create(
        name=name or uid("工人"),
        gender=pii.id_gender(number),
        birth_date=pii.id_birth_date(number),
        enrolled_at=dt.datetime.now(dt.UTC),
        **pii.id_number_columns(number),
        **pii.phone_columns(phone),
    )
    return person, number, phone


@dataclass
class ProjectWorld:
    """A project with its builder, supervisor, general contractor and one team."""

    project: Project
    builder: ParticipatingUnit
    supervisor: ParticipatingUnit | None
    gc: ParticipatingUnit
    team: Team
    enterprises: dict[str, Enterprise] = field(default_factory=dict)


async def make_project(
    region: str = "630102", managing_level: str = "county", with_supervisor: bool = True
) -> ProjectWorld:
    """A project with its participating units and a team."""
    project = await Project.create(
        code=uid("P"),
        name=uid("项目"),
        region_id=region,
        managing_level=managing_level,
        permit_number=uid("SG"),
    )
    today = site_today()
    ents = {"builder": await make_enterprise(), "gc": await make_enterprise()}
    builder = await ParticipatingUnit.create(
        project=project, enterprise=ents["builder"], role=UnitRole.BUILDER, entry_date=today
    )
    gc = await ParticipatingUnit.create(
        project=project, enterprise=ents["gc"], role=UnitRole.GENERAL_CONTRACTOR, entry_date=today
    )
    supervisor = None
    if with_supervisor:
        ents["supervisor"] = await make_enterprise()
        supervisor = await ParticipatingUnit.create(
            project=project,
            enterprise=ents["supervisor"],
            role=UnitRole.SUPERVISOR,
            entry_date=today,
        )
    team = await Team.create(project=project, unit=gc, name=uid("班组"), leader="班组长")
    return ProjectWorld(project, builder, supervisor, gc, team, ents)


async def make_member(
    world: ProjectWorld,
    *,
    person: Person | None = None,
    person_type: str = PersonType.LABOUR,
    post: str = "",
    unit: ParticipatingUnit | None = None,
    entry_date: dt.date | None = None,
    work_type: str = "钢筋工",
    bank_card: str | None = "6222021234567890123",
    **kw: Any,
) -> ProjectMember:
    """A project member (labour by default, with work type and wage card), entered
    ``DEFAULT_ENTRY_DAYS_AGO`` days ago unless ``entry_date`` says otherwise."""
    if person is None:
        person, _, _ = await make_person()
    c = pii.cipher()
    labour = person_type == PersonType.LABOUR
    kw.setdefault("bank_branch_code", "102100099996" if bank_card else "")
    return await ProjectMember.create(
        project=world.project,
        person=person,
        unit=unit or world.gc,
        team=world.team if labour else None,
        person_type=person_type,
        work_type=work_type if labour else "",
        post=post,
        entry_date=entry_date or site_today() - dt.timedelta(days=DEFAULT_ENTRY_DAYS_AGO),
        bank_name="中国工商银行" if bank_card else "",
        bank_card_enc=c.encrypt(bank_card),
        bank_card_masked=pii.mask_bank_card(bank_card),
        **kw,
    )


async def make_post_holder(
    world: ProjectWorld, post: str, *, person: Person | None = None, **kw: Any
) -> ProjectMember:
    """A management member holding `post` on the world's project (a new person unless given;
    the general contractor's unless ``unit`` says otherwise)."""
    return await make_member(
        world, person=person, person_type=PersonType.MANAGEMENT, post=post, **kw
    )


async def name_on_permit(world: ProjectWorld, person: Person, role: str, **kw: Any) -> KeyPersonnel:
    """`person` named for `role` on the world's construction permit (a key personnel row with
    the person's name and encrypted ID number; ``unit``, ``ended_at`` and the like may be given)."""
    return await KeyPersonnel.create(
        project=world.project,
        role=role,
        name=person.name,
        id_number_enc=person.id_number_enc,
        id_number_bidx=person.id_number_bidx,
        **kw,
    )


async def make_contract(member: ProjectMember, **kw: Any) -> LabourContract:
    """A labour contract of `member` on its project, in force from its entry date unless
    ``start_date`` says otherwise (any other field of the contract may be given)."""
    kw.setdefault("number", uid("HT"))
    kw.setdefault("party_a", "青海建工集团")
    kw.setdefault("start_date", member.entry_date)
    return await LabourContract.create(project_id=member.project_id, member=member, **kw)


async def token_for(redis: Any, account: Account, ttl: int = 3600) -> str:
    """A bearer token for an account, made directly."""
    return await identity.issue_token(redis, identity.principal_for_account(account), ttl)


async def enterprise_token(redis: Any, enterprise: Enterprise) -> str:
    account, _ = await Account.get_or_create(
        kind=AccountKind.ENTERPRISE,
        enterprise=enterprise,
        defaults={"display_name": enterprise.name},
    )
    return await token_for(redis, account)


async def person_token(redis: Any, person: Person) -> str:
    account, _ = await Account.get_or_create(
        kind=AccountKind.PERSON, person=person, defaults={"display_name": person.name}
    )
    return await token_for(redis, account)


async def regulator_token(redis: Any, region_code: str) -> str:
    """A token of the region's regulator account, made as the platform makes it (the CLI and
    主管部门登录 find the same account, named after the region)."""
    return await token_for(redis, await accounts.regulator_account(region_code))


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
