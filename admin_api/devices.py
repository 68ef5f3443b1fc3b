"""Device management (设备管理): register, bind, secrets, search, commands, firmware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import upload_of
from models import AccountKind, Device
from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.errors import Forbidden, NotFound, ValidationError
from realname.web import audit_request, every, ok, page
from services import devices as svc
from services import identity
from services.identity import Principal, ProjectAccess
from services.schemas.devices import (
    CommandPublic,
    DeviceBind,
    DeviceCommandCreate,
    DeviceDetail,
    DevicePublic,
    DeviceQuery,
    DeviceRegister,
    DeviceSettings,
    DeviceWithSecret,
    FirmwareCreate,
    FirmwarePublic,
    PushPersons,
    Queued,
    SecretReply,
    SuspiciousContact,
    UnregisteredSeen,
)

bp = Blueprint("admin_devices")

ADMIN_COMMANDS = {
    "upgrade": "upgrade",  # 升级
    "force_offline": "force_offline",  # 强制下线
    "force_push": "sync_persons",  # 强制下发: re-send all persons
    "sync_persons": "sync_persons",
    "push_persons": "sync_persons",  # 人员更新下发: the delta only
    "upload_faces": "upload_faces",  # 重新下发人脸照片
}


DEVICE_ERRORS = (E.DEVICE_NOT_FOUND,)

# a manager changes one device of the project; the reply is the device
device_change = partial(
    endpoint, access=Access.project(identity.MANAGE), response=DevicePublic, errors=DEVICE_ERRORS
)


async def _change(
    request: Request,
    access: ProjectAccess,
    sn: str,
    action: str,
    change: Callable[[Device], Awaitable[Device]],
) -> HTTPResponse:
    """Apply `change` to the project's device `sn`, audit it as ``device.<action>``."""
    device = await change(await svc.project_device(access.project, sn))
    await audit_request(request, access, f"device.{action}", target=sn)
    return ok(svc.device_public(device))


@bp.get("/projects/<code:str>/devices")
@endpoint(
    summary="设备列表",
    access=Access.project(identity.VIEW),
    response=Page[DevicePublic],
)
async def list_devices(request: Request, query: DeviceQuery, access: ProjectAccess) -> HTTPResponse:
    """The project's devices (per kind), searchable by manufacturer or code, with online state."""
    rows, total = await svc.search_devices(
        access.project,
        kind=query.kind.value if query.kind else None,
        q=query.q,
        manufacturer=query.manufacturer,
        offset=query.offset,
        limit=query.page_size,
    )
    return page([svc.device_public(d, query.offset + i + 1) for i, d in enumerate(rows)], total)


@bp.post("/projects/<code:str>/devices")
@endpoint(
    summary="登记设备",
    access=Access.project(identity.MANAGE),
    response=DeviceWithSecret,
    status=201,
    errors=(E.DEVICE_EXISTS,),
)
async def register(request: Request, body: DeviceRegister, access: ProjectAccess) -> HTTPResponse:
    """登记设备: register a device on this project; the secret is shown only in this reply."""
    principal = access.principal
    device, secret = await svc.register_device(
        access.project,
        kind=body.kind.value,
        sn=body.sn,
        manufacturer=body.manufacturer,
        model=body.model,
        antispoof=body.antispoof,
        protocol=body.protocol,
        timezone=body.timezone or "Asia/Shanghai",
        enterprise_id=principal.enterprise_id,
        direction_mode=body.direction_mode,
        allowed_cidr=body.allowed_cidr,
    )
    await audit_request(request, access, "device.register", target=device.sn)
    return ok({**svc.device_public(device), "secret": secret}, status=201)


@bp.get("/projects/<code:str>/devices/<sn:str>")
@endpoint(
    summary="设备详情",
    access=Access.project(identity.VIEW),
    response=DeviceDetail,
    errors=DEVICE_ERRORS,
)
async def detail(request: Request, sn: str, access: ProjectAccess) -> HTTPResponse:
    """One device with its recent commands and their states, and its suspicious contacts."""
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
@device_change(summary="修改设备设置")
async def settings(
    request: Request, sn: str, body: DeviceSettings, access: ProjectAccess
) -> HTTPResponse:
    """Change a device's direction mode, allowed source network, time zone or anti-spoofing."""
    device = await svc.project_device(access.project, sn)
    device = await svc.update_settings(device, body)
    await audit_request(
        request, access, "device.settings", target=sn, detail=body.model_dump(exclude_unset=True)
    )
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/<sn:str>/network-warning/ack")
@device_change(summary="确认设备新网络")
async def network_ack(request: Request, sn: str, access: ProjectAccess) -> HTTPResponse:
    """The admin checked the new network an ADMS terminal reported from: clear the warning."""
    return await _change(request, access, sn, "network_ack", svc.clear_network_alert)


@bp.post("/projects/<code:str>/devices/<sn:str>/secret")
@endpoint(
    summary="重置设备密钥",
    access=Access.project(identity.MANAGE),
    response=SecretReply,
    errors=DEVICE_ERRORS,
)
async def rotate(request: Request, sn: str, access: ProjectAccess) -> HTTPResponse:
    """Rotate the device secret; the new one is shown only in this reply."""
    device = await svc.project_device(access.project, sn)
    secret = await svc.rotate_secret(device)
    await audit_request(request, access, "device.rotate_secret", target=sn)
    return ok({"sn": sn, "secret": secret})


@bp.post("/projects/<code:str>/devices/<sn:str>/unbind")
@device_change(summary="解绑设备")
async def unbind(request: Request, sn: str, access: ProjectAccess) -> HTTPResponse:
    """Unbind the device from this project (it stops working until bound again)."""
    return await _change(request, access, sn, "unbind", svc.unbind)


@bp.post("/projects/<code:str>/devices/bind")
@endpoint(
    summary="绑定设备",
    access=Access.project(identity.MANAGE),
    response=DevicePublic,
    errors=(E.DEVICE_NOT_FOUND, E.DEVICE_OTHER_ENTERPRISE, E.DEVICE_BOUND),
)
async def bind(request: Request, body: DeviceBind, access: ProjectAccess) -> HTTPResponse:
    """Bind an unbound, registered device (by serial) to this project."""
    device = await Device.get_or_none(sn=body.sn)
    if device is None:
        raise NotFound("设备未登记", code=E.DEVICE_NOT_FOUND.code)
    principal = access.principal
    if (
        device.enterprise_id not in (None, principal.enterprise_id)
        and principal.kind != AccountKind.OPERATOR
    ):
        raise Forbidden("该设备由其他企业登记", code=E.DEVICE_OTHER_ENTERPRISE.code)
    device = await svc.bind(device, access.project)
    await audit_request(request, access, "device.bind", target=body.sn)
    return ok(svc.device_public(device))


@bp.post("/projects/<code:str>/devices/<sn:str>/online")
@device_change(summary="解除强制下线")
async def restore_online(request: Request, sn: str, access: ProjectAccess) -> HTTPResponse:
    """Lift a forced offline: the device may connect again."""
    return await _change(
        request, access, sn, "restore_online", partial(svc.set_forced_offline, forced=False)
    )


@bp.post("/projects/<code:str>/devices/<sn:str>/commands")
@endpoint(
    summary="向设备下发指令",
    access=Access.project(identity.MANAGE),
    response=CommandPublic,
    status=201,
    errors=(E.DEVICE_NOT_FOUND, E.FIRMWARE_NOT_FOUND),
)
async def command(
    request: Request, sn: str, body: DeviceCommandCreate, access: ProjectAccess
) -> HTTPResponse:
    """升级 / 强制下线 / 强制下发 / 人员更新下发 / 重新下发人脸照片 for one device."""
    device = await svc.project_device(access.project, sn)
    name = body.type
    params: dict[str, object] = {"version": body.version} if name == "upgrade" else {}
    if ADMIN_COMMANDS[name] == "sync_persons":
        params = {"full": name in ("force_push", "sync_persons")}
    principal = access.principal
    # an upgrade uses the platform's packages or the commanding enterprise's own (the operator:
    # those of the enterprise that registered the device)
    owner = (
        principal.enterprise_id
        if principal.kind == AccountKind.ENTERPRISE
        else device.enterprise_id
        if principal.kind == AccountKind.OPERATOR
        else None
    )
    cmd = await svc.queue_command(
        device,
        ADMIN_COMMANDS[name],
        params,
        created_by=f"{principal.kind}:{principal.account_id}",
        firmware_owner=owner,
    )
    await audit_request(request, access, f"device.command.{name}", target=sn)
    return ok(svc.command_admin(cmd), status=201)


@bp.get("/projects/<code:str>/devices/<sn:str>/commands")
@endpoint(
    summary="设备指令记录",
    access=Access.project(identity.VIEW),
    response=Page[CommandPublic],
    errors=DEVICE_ERRORS,
)
async def commands(request: Request, sn: str, access: ProjectAccess) -> HTTPResponse:
    """The device's commands with their delivery state (pending/sent/done/failed/timeout)."""
    device = await svc.project_device(access.project, sn)
    rows = [svc.command_admin(c) for c in await svc.list_commands(device)]
    return every(rows)


@bp.post("/projects/<code:str>/devices/push-persons")
@endpoint(
    summary="人员更新下发",
    access=Access.project(identity.MANAGE),
    response=Queued,
)
async def push_persons(request: Request, body: PushPersons, access: ProjectAccess) -> HTTPResponse:
    """人员更新下发 (or 强制下发 with ``full``) to every terminal of the project."""
    principal = access.principal
    devices = await Device.filter(project_id=access.project.id, forced_offline=False)
    queued = [
        await svc.queue_command(
            d,
            "sync_persons",
            {"full": body.full},
            created_by=f"{principal.kind}:{principal.account_id}",
        )
        for d in devices
        if d.kind != "collection"
    ]
    await audit_request(
        request,
        access,
        "device.push_persons",
        target=f"project:{access.project.code}",
        detail={"devices": len(queued), "full": body.full},
    )
    return ok({"queued": len(queued)})


@bp.get("/devices/unregistered")
@endpoint(
    summary="未登记设备的通讯记录",
    access=Access.kinds(AccountKind.OPERATOR.value),
    response=Page[UnregisteredSeen],
)
async def unregistered(request: Request) -> HTTPResponse:
    """Serials that contacted the platform without being registered (platform operators only:
    serials and addresses of any terminal are not an enterprise's business)."""
    return every(await svc.unregistered_seen())


@bp.get("/devices/suspicious")
@endpoint(
    summary="可疑设备通讯记录",
    access=Access.kinds(AccountKind.OPERATOR.value),
    response=Page[SuspiciousContact],
)
async def suspicious(request: Request) -> HTTPResponse:
    """Refused or flagged device contacts (platform operators): a native serial on /iclock, an
    ADMS terminal outside its allowed network or reporting from a new one."""
    return every(await svc.suspicious_contacts())


FIRMWARE_KINDS = (AccountKind.OPERATOR.value, AccountKind.ENTERPRISE.value)


@bp.get("/firmware")
@endpoint(
    summary="升级包列表",
    access=Access.kinds(*FIRMWARE_KINDS),
    response=Page[FirmwarePublic],
)
async def firmware_list(request: Request, principal: Principal) -> HTTPResponse:
    """Firmware/app packages: the operator sees all; an enterprise its own and the platform's."""
    packages = await svc.visible_firmware(
        principal.enterprise_id, operator=principal.kind == AccountKind.OPERATOR
    )
    rows = [svc.firmware_public(p) for p in packages]
    return every(rows)


@bp.post("/firmware")
@endpoint(
    summary="登记升级包",
    access=Access.kinds(*FIRMWARE_KINDS),
    form=True,
    files=("file",),
    response=FirmwarePublic,
    status=201,
    errors=(E.FIRMWARE_EXISTS, E.TOO_LARGE),
)
async def firmware_add(
    request: Request, body: FirmwareCreate, principal: Principal
) -> HTTPResponse:
    """Register a package: JSON (version, URL, SHA-256), or multipart with the package ``file``
    (stored here, SHA-256 computed by the platform). An enterprise's package serves only its
    own devices; the operator's serves every enterprise's."""
    owner = None if principal.kind == AccountKind.OPERATOR else principal.enterprise_id
    upload = upload_of(request, "file")
    if upload is not None:
        data, filename = upload
        if len(data) > request.app.ctx.settings.max_upload_bytes * 2:
            raise ValidationError("安装包文件过大", code=E.TOO_LARGE.code, field="file")
        pkg = await svc.add_firmware_file(
            kind=body.kind.value,
            manufacturer=body.manufacturer,
            version=body.version,
            data=data,
            filename=filename,
            store=request.app.ctx.files,
            sha256=body.sha256,
            enterprise_id=owner,
        )
    else:
        pkg = await svc.add_firmware(
            kind=body.kind.value,
            manufacturer=body.manufacturer,
            version=body.version,
            url=body.url,
            sha256=body.sha256,
            enterprise_id=owner,
        )
    await audit_request(request, principal, "device.firmware", target=pkg.version)
    return ok(svc.firmware_public(pkg), status=201)
