"""ADMS (ZKTeco PUSH) command text: the person delta as USERINFO/BIOPHOTO/DELETE commands,
``C:<id>:<payload>`` lines for a getrequest, ``devicecmd`` results and OPTIONS metadata."""

from __future__ import annotations

from typing import Any

from models import CommandStatus, Device, DeviceCommand
from models.devices import DevicePin
from realname import error_codes as E
from realname.errors import ValidationError
from services import localtime
from services.devices.cache import forget
from services.devices.commands import COMMAND_TTL, ack_command, due_commands
from services.devices.firmware import report_firmware

# --- ADMS (ZKTeco PUSH) -------------------------------------------------------------------

ADMS_DELTA_PAGE = 50
ADMS_COMMANDS_PER_POLL = 20  # commands delivered by one getrequest (LF separated)
ADMS_REPLY_BYTES = 1024 * 1024  # ... within this many bytes (face photos are large)
ADMS_MAX_COUNT = 10_000_000  # a UserCount/FaceCount beyond this is not a terminal's


def _adms_clean(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")


async def _adms_queue_delta(device: Device) -> int:
    """Turn the person delta since the device's cursor into USERINFO/BIOPHOTO/DELETE commands.

    One change of a member queues one USERINFO+BIOPHOTO pair (``DevicePin.version`` remembers
    the version queued, so rows the cursor re-reads near "now" queue nothing) and cancels the
    member's older commands not delivered yet. A DELETE is queued only for a PIN the platform
    itself pushed to this terminal, never for terminal-local users (the administrator PIN=1).
    """
    from services import enrolment

    project_id = device.bound_project_id
    rows, cursor, _more = await enrolment.person_delta(
        project_id, device.person_cursor or None, ADMS_DELTA_PAGE
    )
    pins = (
        {
            dp.pin: dp
            for dp in await DevicePin.filter(device_id=device.id, pin__in=[m.id for m, _ in rows])
        }
        if rows
        else {}
    )
    expires = localtime.now() + COMMAND_TTL
    cmds: list[DeviceCommand] = []
    new_pins: list[DevicePin] = []
    changed: list[DevicePin] = []
    for member, person in rows:
        dp = pins.get(member.id)
        version = member.sync_version
        if dp is not None and dp.project_id == project_id and dp.version >= version:
            continue  # this change was queued already
        active = enrolment.person_entry(member, person)["active"]
        base = {"pin": member.id, "person_id": person.id}
        if active:
            ops = (
                ["userinfo", "authorize", "biophoto"]
                if device.push_dialect == "acc"
                else ["userinfo", "biophoto"]
            )
        elif dp is not None and dp.active:
            ops = ["delete"]
        else:
            continue  # never pushed by the platform: not ours to delete
        cmds += [
            DeviceCommand(
                device_id=device.id,
                project_id=project_id,
                type="adms",
                expires_at=expires,
                params={**base, "op": op},
            )
            for op in ops
        ]
        if dp is None:
            new_pins.append(
                DevicePin(
                    device_id=device.id, pin=member.id, project_id=project_id, version=version
                )
            )
        else:
            dp.project_id, dp.version, dp.active = project_id, version, active
            changed.append(dp)
    if cmds:
        await _cancel_superseded(device, {int(c.params["pin"]) for c in cmds})
        await DeviceCommand.bulk_create(cmds)
    if new_pins:
        await DevicePin.bulk_create(new_pins, ignore_conflicts=True)
    for dp in changed:
        await DevicePin.filter(id=dp.id).update(
            project_id=dp.project_id, version=dp.version, active=dp.active
        )
    if cursor != device.person_cursor:
        device.person_cursor = cursor
        await Device.filter(id=device.id).update(person_cursor=cursor)
        forget(device.sn)
    return len(cmds)


async def _cancel_superseded(device: Device, pins: set[int]) -> None:
    """Cancel the person commands of these PINs not delivered yet (a newer change replaces them)."""
    waiting = await DeviceCommand.filter(
        device_id=device.id, type="adms", status=CommandStatus.PENDING
    ).values_list("id", "params")
    stale = [cid for cid, params in waiting if int((params or {}).get("pin") or 0) in pins]
    if stale:
        await DeviceCommand.filter(id__in=stale, status=CommandStatus.PENDING).update(
            status=CommandStatus.CANCELED,
            finished_at=localtime.now(),
            result="已被更新的人员变更取代",
        )


async def _adms_member(device: Device, pin: Any) -> tuple[Any, Any] | None:
    """(member, person) of a PIN still active on the device's current project, else None."""
    from models import Person, ProjectMember, WorkStatus

    try:
        member_id = int(pin)
    except (TypeError, ValueError):
        return None
    member = await ProjectMember.get_or_none(
        id=member_id,
        project_id=device.project_id,
        work_status=WorkStatus.ACTIVE,
    )
    if member is None:
        return None
    person = await Person.get_or_none(id=member.person_id)
    return None if person is None else (member, person)


async def _adms_payload(device: Device, cmd: DeviceCommand, store: Any) -> str | None:
    """The ADMS text of a queued command (None: not deliverable over ADMS, failed).

    Person data is read at delivery and only for a member of the device's current project.
    Access-control firmware (``acc``) takes the Security PUSH tables (``user``,
    ``userauthorize``, ``biophoto``) instead of ``USERINFO``/``BIOPHOTO``.
    """
    p = cmd.params
    if cmd.type == "adms":
        op = p.get("op")
        pin = int(p.get("pin") or 0)
        acc = device.push_dialect == "acc"
        if op == "delete":
            return f"DATA DELETE user Pin={pin}" if acc else f"DATA DELETE USERINFO PIN={pin}"
        if op == "authorize":
            # door 1 in time zone 1 (always): the verification opens the gate and is logged
            return f"DATA UPDATE userauthorize Pin={pin}\tAuthorizeTimezoneId=1\tAuthorizeDoorId=1"
        if op in ("userinfo", "biophoto"):
            found = await _adms_member(device, pin)
            if found is None:
                return None
            _member, person = found
            if op == "userinfo" and acc:
                return (
                    f"DATA UPDATE user CardNo=\tPin={pin}\tPassword=\tGroup=0\tStartTime=0"
                    f"\tEndTime=0\tName={_adms_clean(person.name)}\tPrivilege=0\tDisable=0"
                    "\tVerify=15"
                )
            if op == "userinfo":
                # Verify=15: face only (Verify=0 would let the terminal accept any method).
                return (
                    f"DATA UPDATE USERINFO PIN={pin}\tName={_adms_clean(person.name)}"
                    "\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000000000000\tVerify=15"
                )
            if not person.face_key:
                return None
            import base64

            content = base64.b64encode(await store.get(person.face_key)).decode()
            if acc:
                return (
                    f"DATA UPDATE biophoto PIN={pin}\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9"
                    f"\tMajorVer=0\tMinorVer=0\tFormat=0\tTmp={content}"
                )
            return (
                f"DATA UPDATE BIOPHOTO PIN={pin}\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9"
                f"\tMajorVer=0\tMinorVer=0\tFormat=0\tSize={len(content)}\tContent={content}"
            )
        return p.get("raw")
    if cmd.type == "force_offline":
        return "REBOOT"
    return None


async def adms_next_commands(
    device: Device,
    store: Any,
    limit: int = ADMS_COMMANDS_PER_POLL,
    max_bytes: int = ADMS_REPLY_BYTES,
) -> list[str]:
    """The ``C:<id>:<payload>`` lines for one getrequest: up to ``limit`` commands within
    ``max_bytes`` (at least one); empty means ``OK``."""
    out: list[str] = []
    size = 0
    for _ in range(limit + 5):
        if len(out) >= limit:
            break
        cmds = await due_commands(device, limit=limit - len(out))
        if not cmds:
            if device.forced_offline or not await _adms_queue_delta(device):
                break
            continue
        for i, cmd in enumerate(cmds):
            if cmd.type == "sync_persons":
                # 强制下发 re-sends every person: restart the platform-held cursor and versions.
                if cmd.params.get("full", True):
                    device.person_cursor = ""
                    await Device.filter(id=device.id).update(person_cursor="")
                    await DevicePin.filter(device_id=device.id).update(version=0)
                    forget(device.sn)
                await _finish(cmd, CommandStatus.DONE, "已重新下发人员")
                continue
            payload = await _adms_payload(device, cmd, store)
            if payload is None:
                await _finish(cmd, CommandStatus.FAILED, "ADMS 终端不支持该指令或人员已不在本项目")
                continue
            line = f"C:{cmd.id}:{payload}"
            if out and size + len(line) + 1 > max_bytes:
                await _unsend(cmds[i:])
                return out
            out.append(line)
            size += len(line) + 1
    return out


async def _unsend(cmds: list[DeviceCommand]) -> None:
    """Put back commands taken for a reply they did not fit in (not counted as an attempt)."""
    for cmd in cmds:
        if cmd.status != CommandStatus.SENT:
            continue
        attempts = max(0, cmd.attempts - 1)
        await DeviceCommand.filter(id=cmd.id, status=CommandStatus.SENT).update(
            status=CommandStatus.PENDING, attempts=attempts, sent_at=None
        )


async def adms_command_result(device: Device, cmd_id: str, code: int | None, cmd_text: str) -> None:
    """One ``devicecmd`` row: ``Return=0`` confirms; ``-10`` on a DELETE (the user is not on
    the terminal) is done too; anything else, or no Return at all, is retried up to the limit."""
    try:
        cid = int(cmd_id)
    except ValueError:
        return
    if not 0 < cid < 2**63:
        return
    cmd = await DeviceCommand.get_or_none(id=cid, device_id=device.id)
    if cmd is None:
        return  # not ours: nothing to confirm
    op = cmd.params.get("op") if cmd.type == "adms" else None
    ok = code == 0 or (code == -10 and op == "delete")
    message = (f"Return={code}" if code is not None else "未返回 Return") + (
        f" {cmd_text}" if cmd_text else ""
    )
    await ack_command(device, cid, ok, message)
    if ok and op == "delete":
        await DevicePin.filter(
            device_id=device.id, pin=int(cmd.params.get("pin") or 0), active=False
        ).delete()


async def _finish(cmd: DeviceCommand, status: CommandStatus, result: str) -> None:
    cmd.status, cmd.result, cmd.finished_at = status, result, localtime.now()
    await cmd.save(update_fields=["status", "result", "finished_at"])


async def adms_options(device: Device, options: dict[str, str]) -> None:
    """Record a terminal's OPTIONS/registry metadata (firmware, counts, language, dialect).

    A count that is not a plausible number is refused (422, the key named), nothing stored.
    """
    updates: dict[str, Any] = {}
    for key, attr in (("UserCount", "person_count"), ("FaceCount", "face_count")):
        value = options.get(key, "").strip()
        if not value:
            continue
        if not value.isascii() or not value.isdigit() or int(value) > ADMS_MAX_COUNT:
            raise ValidationError(f"{key} 数值无效", code=E.BAD_FIELD.code, field=key)
        updates[attr] = int(value)
    language = (options.get("Language") or options.get("language") or "").strip()
    if language.isascii() and language.isdigit() and len(language) <= 8:
        if language != device.language:
            updates["language"] = language
    dialect = (options.get("DeviceType") or "").strip().lower()
    if dialect in ("att", "acc") and dialect != device.push_dialect:
        updates["push_dialect"] = dialect
    if updates:
        await Device.filter(id=device.id).update(**updates)
        for key, value in updates.items():
            setattr(device, key, value)
        forget(device.sn)
    await report_firmware(device, options.get("FWVersion") or options.get("FirmVer"))
