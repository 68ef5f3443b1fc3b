"""Device management (设备管理): register, bind, secrets, search, commands, firmware."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import fields_of, upload_of
from models import AccountKind, Device
from realname.errors import Forbidden, NotFound, ValidationError
from realname.web import (
    audit_project,
    body_of,
    current_principal,
    ip_of,
    ok,
    page,
    paging,
    project_access,
)
from services import audit, identity
from services import devices as svc

bp = Blueprint("admin_devices")

ADMIN_COMMANDS = {
    "upgrade": "upgrade",  # 升级
    "force_offline": "force_offline",  # 强制下线
    "force_push": "sync_persons",  # 强制下发: re-send all persons
    "sync_persons": "sync_persons",
    "push_persons": "sync_persons",  # 人员更新下发: the delta only
    "upload_faces": "upload_faces",  # 重新下发人脸照片
}


@bp.get("/projects/<code:str>/devices")
async def list_devices(request: Request, code: str) -> HTTPResponse:
    """The project's devices (per kind), searchable by manufacturer or code, with online state."""
    access = await project_access(request, code)
    page_no, size = paging(request)
    rows, total = await svc.search_devices(
        access.project,
        kind=request.args.get("kind"),
        q=request.args.get("q"),
        manufacturer=request.args.get("manufacturer"),
        offset=(page_no - 1) * size,
        limit=size,
    )
    start = (page_no - 1) * size
    return page([svc.device_public(d, start + i + 1) for i, d in enumerate(rows)], total)


@bp.post("/projects/<code:str>/devices")
async def register(request: Request, code: str) -> HTTPResponse:
    """登记设备: register a device on this project; the secret is shown only in this reply."""
    access = await project_access(request, code, identity.MANAGE)
    body = body_of(request)
    principal = await current_principal(request)
    device, secret = await svc.register_device(
        access.project,
        kind=body.get("kind", ""),
        sn=body.get("sn", ""),
        manufacturer=body.get("manufacturer", ""),
        model=body.get("model", ""),
        antispoof=bool(body.get("antispoof", False)),
        protocol=body.get("protocol", "native"),
        timezone=body.get("timezone") or "Asia/Shanghai",
        enterprise_id=principal.enterprise_id,
        direction_mode=body.get("direction_mode") or "state",
        allowed_cidr=body.get("allowed_cidr") or "",
    )
    await audit.record(
        "device.register",
        principal=principal,
        project_id=access.project.id,
        target=device.sn,
        ip=ip_of(request),
    )
    return ok({**svc.device_public(device), "secret": secret}, status=201)


@bp.get("/projects/<code:str>/devices/<sn:str>")
async def detail(request: Request, code: str, sn: str) -> HTTPResponse:
    """One device with its recent commands and their states, and its suspicious contacts."""
    access = await project_access(request, code)
    device = await svc.project_device(access.project, sn)
    cmds = await svc.list_commands(device)
    return ok(
        {
            **svc.device_public(device),
            "commands": [svc.command_admin(c) for c in cmds],
            "suspicious_contacts": await svc.suspicious_contacts(device.sn, limit=20),
        }
    )


@bp.post("/projects/<code:str>/devices/<sn:str>/settings")
async def settings(request: Request, code: str, sn: str) -> HTTPResponse:
    """Change a device's direction mode, allowed source network, time zone or anti-spoofing."""
    access = await project_access(request, code, identity.MANAGE)
    device = await svc.project_device(access.project, sn)
    body = body_of(request)
    device = await svc.update_settings(device, body)
    await audit.record(
        "device.settings",
        principal=await current_principal(request),
        project_id=access.project.id,
        target=sn,
        ip=ip_of(request),
        detail={k: body[k] for k in svc.SETTING_KEYS if k in body},
    )
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/<sn:str>/network-warning/ack")
async def network_ack(request: Request, code: str, sn: str) -> HTTPResponse:
    """The admin checked the new network an ADMS terminal reported from: clear the warning."""
    access = await project_access(request, code, identity.MANAGE)
    device = await svc.clear_network_alert(await svc.project_device(access.project, sn))
    await audit.record(
        "device.network_ack",
        principal=await current_principal(request),
        project_id=access.project.id,
        target=sn,
        ip=ip_of(request),
    )
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/<sn:str>/secret")
async def rotate(request: Request, code: str, sn: str) -> HTTPResponse:
    """Rotate the device secret; the new one is shown only in this reply."""
    access = await project_access(request, code, identity.MANAGE)
    device = await svc.project_device(access.project, sn)
    secret = await svc.rotate_secret(device)
    await audit.record(
        "device.rotate_secret",
        principal=await current_principal(request),
        project_id=access.project.id,
        target=sn,
        ip=ip_of(request),
    )
    return ok({"sn": sn, "secret": secret})


@bp.post("/projects/<code:str>/devices/<sn:str>/unbind")
async def unbind(request: Request, code: str, sn: str) -> HTTPResponse:
    """Unbind the device from this project (it stops working until bound again)."""
    access = await project_access(request, code, identity.MANAGE)
    device = await svc.unbind(await svc.project_device(access.project, sn))
    await audit.record(
        "device.unbind",
        principal=await current_principal(request),
        project_id=access.project.id,
        target=sn,
        ip=ip_of(request),
    )
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/bind")
async def bind(request: Request, code: str) -> HTTPResponse:
    """Bind an unbound, registered device (by serial) to this project."""
    access = await project_access(request, code, identity.MANAGE)
    sn = str(body_of(request).get("sn") or "").strip()
    device = await Device.get_or_none(sn=sn) if sn else None
    if device is None:
        raise NotFound("设备未登记", code="device_not_found")
    principal = await current_principal(request)
    if (
        device.enterprise_id not in (None, principal.enterprise_id)  # type: ignore[attr-defined]
        and principal.kind != AccountKind.OPERATOR
    ):
        raise Forbidden("该设备由其他企业登记", code="device_other_enterprise")
    device = await svc.bind(device, access.project)
    await audit.record(
        "device.bind",
        principal=principal,
        project_id=access.project.id,
        target=sn,
        ip=ip_of(request),
    )
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/<sn:str>/online")
async def restore_online(request: Request, code: str, sn: str) -> HTTPResponse:
    """Lift a forced offline: the device may connect again."""
    access = await project_access(request, code, identity.MANAGE)
    device = await svc.set_forced_offline(await svc.project_device(access.project, sn), False)
    await audit_project(request, access, "device.restore_online", target=sn)
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/<sn:str>/commands")
async def command(request: Request, code: str, sn: str) -> HTTPResponse:
    """升级 / 强制下线 / 强制下发 / 人员更新下发 / 重新下发人脸照片 for one device."""
    access = await project_access(request, code, identity.MANAGE)
    device = await svc.project_device(access.project, sn)
    body = body_of(request)
    name = str(body.get("type") or "")
    if name not in ADMIN_COMMANDS:
        raise ValidationError("指令类型无效", field="type")
    params = {"version": body.get("version")} if name == "upgrade" else {}
    if ADMIN_COMMANDS[name] == "sync_persons":
        params = {"full": name in ("force_push", "sync_persons")}
    principal = await current_principal(request)
    cmd = await svc.queue_command(
        device, ADMIN_COMMANDS[name], params, created_by=f"{principal.kind}:{principal.account_id}"
    )
    await audit.record(
        f"device.command.{name}",
        principal=principal,
        project_id=access.project.id,
        target=sn,
        ip=ip_of(request),
    )
    return ok(svc.command_admin(cmd), status=201)


@bp.get("/projects/<code:str>/devices/<sn:str>/commands")
async def commands(request: Request, code: str, sn: str) -> HTTPResponse:
    """The device's commands with their delivery state (pending/sent/done/failed/timeout)."""
    access = await project_access(request, code)
    device = await svc.project_device(access.project, sn)
    rows = [svc.command_admin(c) for c in await svc.list_commands(device)]
    return page(rows, len(rows))


@bp.post("/projects/<code:str>/devices/push-persons")
async def push_persons(request: Request, code: str) -> HTTPResponse:
    """人员更新下发 (or 强制下发 with ``full``) to every terminal of the project."""
    access = await project_access(request, code, identity.MANAGE)
    full = bool(body_of(request).get("full", False))
    principal = await current_principal(request)
    devices = await Device.filter(project_id=access.project.id, forced_offline=False)
    queued = [
        await svc.queue_command(
            d, "sync_persons", {"full": full}, created_by=f"{principal.kind}:{principal.account_id}"
        )
        for d in devices
        if d.kind != "collection"
    ]
    await audit_project(
        request,
        access,
        "device.push_persons",
        target=f"project:{access.project.code}",
        detail={"devices": len(queued), "full": full},
    )
    return ok({"queued": len(queued)})


@bp.get("/devices/unregistered")
async def unregistered(request: Request) -> HTTPResponse:
    """Serials that contacted the platform without being registered ("unregistered device seen")."""
    await current_principal(request)
    rows = await svc.unregistered_seen()
    return page(rows, len(rows))


@bp.get("/devices/suspicious")
async def suspicious(request: Request) -> HTTPResponse:
    """Refused or flagged device contacts (platform operators): a native serial on /iclock, an
    ADMS terminal outside its allowed network or reporting from a new one."""
    principal = await current_principal(request)
    if principal.kind != AccountKind.OPERATOR:
        raise Forbidden("仅平台运维可查看", code="wrong_account_kind")
    rows = await svc.suspicious_contacts()
    return page(rows, len(rows))


@bp.get("/firmware")
async def firmware_list(request: Request) -> HTTPResponse:
    """Registered firmware/app packages."""
    await current_principal(request)
    from models import FirmwarePackage

    rows = [svc.firmware_public(p) for p in await FirmwarePackage.all().order_by("-id")]
    return page(rows, len(rows))


@bp.post("/firmware")
async def firmware_add(request: Request) -> HTTPResponse:
    """Register a package: JSON (version, URL, SHA-256), or multipart with the package ``file``
    (stored here, SHA-256 computed by the platform): operators and enterprises."""
    principal = await current_principal(request)
    if principal.kind not in (AccountKind.OPERATOR, AccountKind.ENTERPRISE):
        raise Forbidden("仅平台运维或企业可登记升级包", code="wrong_account_kind")
    upload = upload_of(request, "file")
    body = fields_of(request)
    if upload is not None:
        data, filename = upload
        if len(data) > request.app.ctx.settings.max_upload_bytes * 2:
            raise ValidationError("安装包文件过大", code="too_large", field="file")
        pkg = await svc.add_firmware_file(
            kind=str(body.get("kind") or ""),
            manufacturer=str(body.get("manufacturer") or ""),
            version=str(body.get("version") or ""),
            data=data,
            filename=filename,
            store=request.app.ctx.files,
            sha256=str(body.get("sha256") or ""),
        )
    else:
        pkg = await svc.add_firmware(
            kind=body.get("kind", ""),
            manufacturer=body.get("manufacturer", ""),
            version=str(body.get("version") or ""),
            url=str(body.get("url") or ""),
            sha256=body.get("sha256", ""),
        )
    await audit.record(
        "device.firmware", principal=principal, target=pkg.version, ip=ip_of(request)
    )
    return ok(svc.firmware_public(pkg), status=201)
