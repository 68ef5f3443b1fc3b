"""Enrolment from collection machines (人员进场, 重新采集) and person/face sync down to terminals.

An enrolment creates or updates the natural person (ID-card fields, face) and the project member;
a re-capture replaces only the face. Every change a terminal must learn bumps the member's sync
version (``services.sync``), which drives the delta person list and the ADMS USERINFO commands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import (
    Device,
    Enterprise,
    ParticipatingUnit,
    Person,
    PersonType,
    Post,
    Project,
    ProjectMember,
    Team,
    WorkStatus,
)
from models.org import UNIT_ROLE_LABELS
from models.people import PERSON_TYPE_LABELS, POST_LABELS
from realname import error_codes as E
from realname.errors import AppError, NotFound, ValidationError, require
from realname.storage import FileStore, sha256_hex
from services import localtime, pii, sync
from services.dates import parse_date
from services.files import decode_base64, sniff

MAX_FACE_BYTES = 2 * 1024 * 1024
PERSONS_PAGE = 500
ENROL_KINDS = ("collection", "legacy")

# 岗位: the standard site posts, in the order collection machines list them.
SITE_POSTS: tuple[Post, ...] = (
    Post.PROJECT_MANAGER,
    Post.DEPUTY_PROJECT_MANAGER,
    Post.TECHNICAL_LEAD,
    Post.CONSTRUCTION_OFFICER,
    Post.QUALITY_OFFICER,
    Post.SAFETY_OFFICER,
    Post.MATERIAL_OFFICER,
    Post.DOCUMENT_OFFICER,
    Post.MACHINERY_OFFICER,
    Post.STANDARDS_OFFICER,
    Post.LABOUR_OFFICER,
    Post.COST_OFFICER,
    Post.CHIEF_SUPERVISOR,
    Post.DEPUTY_CHIEF_SUPERVISOR,
    Post.SUPERVISOR_ENGINEER,
    Post.SUPERVISION_OFFICER,
    Post.OTHER,
)

# 工种: the national code table of construction trades (住建部 建筑工人工种), codes beside names;
# 普工 and 其他 have no national code (their label is their code). A member's work type is stored
# as its Chinese name, as the web side stores it.
NATIONAL_WORK_TYPES: tuple[tuple[str, str], ...] = (
    ("010", "砌筑工"),
    ("020", "钢筋工"),
    ("030", "架子工"),
    ("040", "混凝土工"),
    ("050", "模板工"),
    ("060", "机械设备安装工"),
    ("070", "通风工"),
    ("080", "安装起重工"),
    ("090", "安装钳工"),
    ("100", "电气设备安装调试工"),
    ("110", "管道工"),
    ("120", "变电安装工"),
    ("130", "建筑电工"),
    ("140", "司泵工"),
    ("150", "挖掘铲运和桩工机械司机"),
    ("160", "桩机操作工"),
    ("170", "起重信号工"),
    ("180", "建筑起重机械安装拆卸工"),
    ("190", "装饰装修工"),
    ("200", "室内成套设施安装工"),
    ("210", "建筑门窗幕墙安装工"),
    ("220", "幕墙制作工"),
    ("230", "防水工"),
    ("240", "木工"),
    ("250", "石工"),
    ("270", "电焊工"),
    ("280", "爆破工"),
    ("290", "除尘工"),
    ("300", "测量放线工"),
    ("310", "线路架设工"),
    ("320", "古建筑传统石工"),
    ("330", "古建筑传统瓦工"),
    ("340", "古建筑传统彩画工"),
    ("350", "古建筑传统木工"),
    ("360", "古建筑传统油工"),
    ("380", "金属工"),
    ("390", "管工"),
    ("900", "管理人员"),
    ("普工", "普工"),
    ("其他", "其他"),
)


def work_type_names() -> set[str]:
    """Every work-type name accepted: the national table and the web side's list."""
    from services.labour import WORK_TYPES

    return {label for _, label in NATIONAL_WORK_TYPES} | set(WORK_TYPES)


def resolve_work_type(value: Any) -> str:
    """A work type given as its national code (``020``) or its Chinese name → the name."""
    text = str(require(value, "work_type", "工种")).strip()
    by_code = dict(NATIONAL_WORK_TYPES)
    if text in by_code:
        return by_code[text]
    if text in work_type_names():
        return text
    raise ValidationError(
        "工种无效，请从工种列表中选择（可填代码或名称）", code=E.BAD_FIELD.code, field="work_type"
    )


def resolve_post(value: Any) -> str:
    """A post given as its code (``construction_officer``) or Chinese label (施工员) → the code."""
    text = str(require(value, "post", "岗位")).strip()
    if text in {p.value for p in Post}:
        return text
    for post, label in POST_LABELS.items():
        if text == label:
            return post.value
    raise ValidationError(
        "岗位无效，请从岗位列表中选择（可填代码或名称）", code=E.BAD_FIELD.code, field="post"
    )


async def device_options(project: Project) -> dict[str, Any]:
    """What a collection machine's pickers offer for this project: person types, units with
    their teams, work types and posts (codes and Chinese labels), and a ``version`` that changes
    only when the content does."""
    import hashlib
    import json

    units = (
        await ParticipatingUnit.filter(project_id=project.id)
        .order_by("id")
        .values_list("id", "role", "on_site", "enterprise_id")
    )
    ents = {
        e.id: e
        for e in await Enterprise.filter(id__in=list({u[3] for u in units})).only(
            "id", "name", "credit_code"
        )
    }
    teams = (
        await Team.filter(project_id=project.id, deleted_at__isnull=True)
        .order_by("id")
        .values_list("id", "unit_id", "name", "on_site")
    )
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for team_id, unit_id, name, on_site in teams:
        by_unit.setdefault(unit_id, []).append({"id": team_id, "name": name, "on_site": on_site})
    content: dict[str, Any] = {
        "person_types": [{"code": str(k), "label": v} for k, v in PERSON_TYPE_LABELS.items()],
        "units": [
            {
                "credit_code": ents[ent_id].credit_code,
                "name": ents[ent_id].name,
                "role": str(role),
                "role_label": UNIT_ROLE_LABELS.get(role, str(role)),
                "on_site": on_site,
                "teams": by_unit.get(unit_id, []),
            }
            for unit_id, role, on_site, ent_id in units
            if ent_id in ents
        ],
        "work_types": [{"code": c, "label": n} for c, n in NATIONAL_WORK_TYPES],
        "posts": [{"code": p.value, "label": POST_LABELS[p]} for p in SITE_POSTS],
    }
    digest = hashlib.sha256(
        json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()
    return {"version": digest[:16], **content}


_ID_FIELDS = (
    ("id_number", "身份证号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("ethnicity", "民族"),
    ("birth_date", "出生日期"),
    ("address", "住址"),
    ("issuer", "签发机关"),
    ("valid_from", "有效期起"),
    ("valid_to", "有效期止"),
    ("id_photo", "身份证照片"),
)


def image(value: Any, field: str, label: str) -> bytes:
    """A base64 JPEG/PNG, checked by its bytes."""
    require(value, field, label)
    data = decode_base64(value, field)
    if len(data) > MAX_FACE_BYTES:
        raise ValidationError(f"{label}过大（不超过2MB）", code=E.TOO_LARGE.code, field=field)
    found = sniff(data)
    if found is None or found[0] not in ("jpeg", "png"):
        raise ValidationError(f"{label}应为 JPEG 图片", code=E.BAD_FIELD.code, field=field)
    return data


@dataclass
class Enrolment:
    """A validated enrolment request."""

    id_number: str
    name: str
    gender: str
    ethnicity: str
    birth_date: dt.date
    address: str
    issuer: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    id_photo: bytes
    face: bytes
    person_type: str
    unit: ParticipatingUnit
    team: Team | None
    work_type: str
    post: str
    phone: str


async def validate_enrolment(project: Project, body: dict[str, Any]) -> Enrolment:
    """Check every field of a 人员进场 request (all required, as the manual says)."""
    id_number = pii.validate_id_number(body.get("id_number"))
    for name, label in _ID_FIELDS[1:]:
        require(body.get(name), name, label)
    gender = str(body["gender"]).strip()
    if gender not in ("男", "女"):
        raise ValidationError("性别应为 男 或 女", code=E.BAD_FIELD.code, field="gender")
    if gender != pii.id_gender(id_number):
        raise ValidationError("性别与身份证号不符", code=E.BAD_FIELD.code, field="gender")
    birth = parse_date(body["birth_date"], "birth_date", "出生日期")
    if birth != pii.id_birth_date(id_number):
        raise ValidationError("出生日期与身份证号不符", code=E.BAD_FIELD.code, field="birth_date")
    valid_from = parse_date(body["valid_from"], "valid_from", "有效期起")
    valid_to = parse_date(body["valid_to"], "valid_to", "有效期止", allow_long_term=True)
    if valid_to is not None and valid_from is not None and valid_to < valid_from:
        raise ValidationError("有效期止早于有效期起", code=E.BAD_FIELD.code, field="valid_to")
    if valid_to is not None and valid_to < localtime.project_today(project):
        raise ValidationError("身份证已过期", code=E.ID_EXPIRED.code, field="valid_to")
    id_photo = image(body["id_photo"], "id_photo", "身份证照片")
    face = image(body.get("face"), "face", "人脸照片")
    if body.get("liveness") is not True:
        raise ValidationError("人脸采集未通过活体检测", code=E.NO_LIVENESS.code, field="liveness")
    person_type = require(body.get("person_type"), "person_type", "人员类型")
    if person_type not in (PersonType.LABOUR, PersonType.MANAGEMENT):
        raise ValidationError(
            "人员类型应为 labour 或 management", code=E.BAD_FIELD.code, field="person_type"
        )
    code = pii.validate_credit_code(body.get("unit_credit_code"), field="unit_credit_code")
    unit = await ParticipatingUnit.filter(
        project_id=project.id, enterprise__credit_code=code
    ).first()
    if unit is None:
        raise ValidationError(
            "该单位不是本项目的参建单位", code=E.UNIT_NOT_ON_PROJECT.code, field="unit_credit_code"
        )
    team: Team | None = None
    work_type = post = ""
    if person_type == PersonType.LABOUR:
        team_id = require(body.get("team_id"), "team_id", "班组")
        try:
            team_id = int(team_id)
        except (TypeError, ValueError):
            raise ValidationError("班组编号无效", code=E.BAD_FIELD.code, field="team_id") from None
        team = await Team.get_or_none(id=team_id, project_id=project.id, deleted_at__isnull=True)
        if team is None:
            raise ValidationError(
                "班组不存在，请先在项目端建立班组", code=E.TEAM_NOT_FOUND.code, field="team_id"
            )
        if team.unit_id != unit.id:
            raise ValidationError("班组不属于所选单位", code=E.BAD_FIELD.code, field="team_id")
        work_type = resolve_work_type(body.get("work_type"))
    else:
        post = resolve_post(body.get("post"))
    phone = pii.validate_phone(body.get("phone")) or ""
    return Enrolment(
        id_number=id_number,
        name=str(body["name"]).strip()[:64],
        gender=gender,
        ethnicity=str(body["ethnicity"]).strip()[:16],
        birth_date=birth,
        address=str(body["address"]).strip(),
        issuer=str(body["issuer"]).strip()[:128],
        valid_from=valid_from,
        valid_to=valid_to,
        id_photo=id_photo,
        face=face,
        person_type=person_type,
        unit=unit,
        team=team,
        work_type=work_type,
        post=post,
        phone=phone,
    )


def check_enrolling_device(device: Device) -> None:
    """Only collection machines (and legacy all-in-ones) enrol people."""
    if device.kind not in ENROL_KINDS:
        raise AppError(
            "该设备不是采集设备，不能采集人员", code=E.WRONG_DEVICE_KIND.code, status=403
        )


async def enrol(
    device: Device, project: Project, body: dict[str, Any], store: FileStore
) -> dict[str, Any]:
    """人员进场 or 重新采集 from a collection machine; creates/updates the person and member."""
    check_enrolling_device(device)
    if body.get("recapture") is True:
        return await recapture(device, project, body, store)
    e = await validate_enrolment(project, body)
    c = pii.cipher()
    id_key = await store.put(
        e.id_photo, prefix="idphotos", suffix=".jpg", content_type="image/jpeg"
    )
    face_key = await store.put(e.face, prefix="faces", suffix=".jpg", content_type="image/jpeg")
    now = localtime.now()
    person_fields: dict[str, Any] = dict(
        name=e.name,
        gender=e.gender,
        ethnicity=e.ethnicity,
        birth_date=e.birth_date,
        address_enc=c.encrypt(e.address),
        issuer=e.issuer,
        id_valid_from=e.valid_from,
        id_valid_to=e.valid_to,
        id_photo_key=id_key,
        face_key=face_key,
        face_sha256=sha256_hex(e.face),
        face_captured_at=now,
        enrolled_at=now,
        **pii.phone_columns(e.phone),
    )
    member_fields: dict[str, Any] = dict(
        unit_id=e.unit.id,
        team_id=e.team.id if e.team else None,
        person_type=e.person_type,
        work_type=e.work_type,
        post=e.post,
        work_status=WorkStatus.ACTIVE,
        exit_date=None,
        sync_version=sync.next_version(),
    )
    bidx = c.blind_index("id", e.id_number)
    async with in_transaction():
        person = await Person.get_or_none(id_number_bidx=bidx)
        created = person is None
        if person is None:
            person = await Person.create(**pii.id_number_columns(e.id_number), **person_fields)
        else:
            await Person.filter(id=person.id).update(**person_fields)
        member = await ProjectMember.get_or_none(project_id=project.id, person_id=person.id)
        if member is None:
            member = await ProjectMember.create(
                project_id=project.id,
                person_id=person.id,
                entry_date=localtime.project_today(project),
                **member_fields,
            )
        else:
            if member.work_status != WorkStatus.ACTIVE:
                member_fields["entry_date"] = localtime.project_today(project)
            await ProjectMember.filter(id=member.id).update(**member_fields)
    # The face changed for every project the person is on: their terminals must re-sync.
    await sync.mark_members_changed(
        cast(
            list[int],
            await ProjectMember.filter(person_id=person.id).values_list("id", flat=True),
        )
    )
    return {
        "person_id": person.id,
        "member_id": member.id,
        "pin": str(member.id),
        "created": created,
        "face_sha256": person_fields["face_sha256"],
    }


async def recapture(
    device: Device, project: Project, body: dict[str, Any], store: FileStore
) -> dict[str, Any]:
    """重新采集: replace only the face of a person already on this project."""
    id_number = pii.validate_id_number(body.get("id_number"))
    face = image(body.get("face"), "face", "人脸照片")
    if body.get("liveness") is not True:
        raise ValidationError("人脸采集未通过活体检测", code=E.NO_LIVENESS.code, field="liveness")
    person = await Person.get_or_none(id_number_bidx=pii.cipher().blind_index("id", id_number))
    if person is None:
        raise ValidationError(
            "该人员尚未采集，请先办理人员进场", code=E.UNKNOWN_PERSON.code, field="id_number"
        )
    member = await ProjectMember.get_or_none(project_id=project.id, person_id=person.id)
    if member is None:
        raise ValidationError("该人员不在本项目", code=E.NOT_ON_PROJECT.code, field="id_number")
    digest = await replace_face(person, face, store)
    return {
        "person_id": person.id,
        "member_id": member.id,
        "pin": str(member.id),
        "created": False,
        "face_sha256": digest,
    }


async def replace_face(person: Person, face: bytes, store: FileStore) -> str:
    """Store a new face photo for a person and tell every terminal of their projects."""
    digest = sha256_hex(face)
    if digest != person.face_sha256:
        key = await store.put(face, prefix="faces", suffix=".jpg", content_type="image/jpeg")
        await Person.filter(id=person.id).update(
            face_key=key, face_sha256=digest, face_captured_at=localtime.now()
        )
        await sync.mark_members_changed(
            cast(
                list[int],
                await ProjectMember.filter(person_id=person.id).values_list("id", flat=True),
            )
        )
    return digest


async def upload_faces(
    device: Device, project: Project, body: dict[str, Any], store: FileStore
) -> dict[str, Any]:
    """A terminal's latest face photos (answer to ``upload_faces``); unknown persons are skipped."""
    faces = body.get("faces")
    if not isinstance(faces, list) or not faces:
        raise ValidationError("faces 应为非空数组", code=E.BAD_FIELD.code, field="faces")
    if len(faces) > 200:
        raise AppError("一次最多上传200张人脸照片", code=E.TOO_LARGE.code, status=413)
    results = []
    for i, item in enumerate(faces):
        if not isinstance(item, dict):
            raise ValidationError(
                "faces 的元素应为对象", code=E.BAD_FIELD.code, field=f"faces[{i}]"
            )
        try:
            person_id = int(item["person_id"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                "person_id 无效", code=E.BAD_FIELD.code, field=f"faces[{i}].person_id"
            ) from None
        data = image(item.get("face"), f"faces[{i}].face", "人脸照片")
        member = await ProjectMember.get_or_none(project_id=project.id, person_id=person_id)
        if member is None:
            results.append(
                {"person_id": person_id, "status": "rejected", "reason": "not_on_project"}
            )
            continue
        person = await Person.get(id=person_id)
        digest = await replace_face(person, data, store)
        results.append({"person_id": person_id, "status": "accepted", "face_sha256": digest})
    return {"results": results}


# --- person sync ---------------------------------------------------------------------------------


def encode_cursor(version: int, member_id: int) -> str:
    """An opaque cursor for the delta person list."""
    return f"{version}.{member_id}"


def decode_cursor(cursor: str | None) -> tuple[int, int]:
    """(version, member id) from a cursor; empty means "from the start"."""
    if not cursor:
        return (-1, 0)
    try:
        version, _, member_id = cursor.partition(".")
        return int(version), int(member_id or 0)
    except ValueError:
        raise ValidationError("cursor 无效", code=E.BAD_FIELD.code, field="cursor") from None


def person_entry(member: ProjectMember, person: Person) -> dict[str, Any]:
    """One entry of the person list a terminal must recognise."""
    active = member.work_status == WorkStatus.ACTIVE and person.face_key is not None
    return {
        "person_id": person.id,
        "pin": str(member.id),
        "name": person.name,
        "face_sha256": person.face_sha256,
        "face_url": f"/device/v1/faces/{person.id}" if person.face_key else None,
        "active": active,
    }


async def person_delta(
    project_id: int, cursor: str | None, limit: int = PERSONS_PAGE
) -> tuple[list[tuple[ProjectMember, Person]], str, bool]:
    """Members changed since ``cursor``: (rows, next cursor, more).

    The cursor never passes ``now - CURSOR_SAFETY_US``, so a change committed a little after its
    version was taken is still delivered (rows near "now" may come twice; entries are idempotent).
    """
    version, last_id = decode_cursor(cursor)
    members = (
        await ProjectMember.filter(project_id=project_id)
        .filter(Q(sync_version__gt=version) | Q(sync_version=version, id__gt=last_id))
        .order_by("sync_version", "id")
        .limit(limit)
        .prefetch_related("person")
    )
    more = len(members) == limit
    if members:
        last = members[-1]
        version, last_id = last.sync_version, last.id
    horizon = sync.next_version() - sync.CURSOR_SAFETY_US
    if version > horizon:
        version, last_id, more = horizon, 0, False
    rows = [(m, m.person) for m in members]
    return rows, encode_cursor(version, last_id), more


async def face_for(project_id: int, person_id: int, store: FileStore) -> bytes:
    """The face photo of a person on this project (for terminal download)."""
    person = await Person.get_or_none(id=person_id)
    if (
        person is None
        or person.face_key is None
        or not await ProjectMember.exists(project_id=project_id, person_id=person_id)
    ):
        raise NotFound("人脸照片不存在", code=E.FACE_NOT_FOUND.code)
    return await store.get(person.face_key)
