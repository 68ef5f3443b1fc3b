"""Firmware files (issue 11 item 14): an operator or enterprise uploads the package itself; the
platform stores it, computes its SHA-256 and serves it to the device by a signed URL."""

from __future__ import annotations

import hashlib
import os

from models import Device, FirmwarePackage
from tests.devices.helpers import call, make_device
from tests.factories import auth, enterprise_token, make_project
from tests.suite import uid


async def test_uploaded_package_reaches_the_device_by_a_signed_url(client, redis):
    world = await make_project()
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    package = b"FWPK" + os.urandom(300_000)
    version = uid("v")[:12]
    form = {"kind": "attendance", "version": version, "manufacturer": "海康"}
    r = await client.post(
        "/admin/v1/firmware",
        data=form,
        files={"file": ("DS-K1-1.5.0.bin", package, "application/octet-stream")},
        headers=h,
    )
    assert r.status_code == 201, r.text
    pkg = r.json()
    assert pkg["sha256"] == hashlib.sha256(package).hexdigest()
    assert pkg["uploaded"] is True and pkg["size"] == len(package)
    # the uploader's own SHA-256 must match the file
    r = await client.post(
        "/admin/v1/firmware",
        data={**form, "version": version + "b", "sha256": "0" * 64},
        files={"file": ("x.bin", package, "application/octet-stream")},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["field"] == "sha256"
    assert not await FirmwarePackage.exists(version=version + "b")
    r = await client.post(
        "/admin/v1/firmware", data=form, files={"file": ("x.bin", b"", "x/y")}, headers=h
    )
    assert r.status_code in (409, 422)

    dev = await make_device(world)
    other = await make_device(world)
    base = f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}"
    r = await client.post(
        f"{base}/commands", json={"type": "upgrade", "version": version}, headers=h
    )
    assert r.status_code == 201, r.text
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0"})
    params = r.json()["commands"][0]["params"]
    assert params["sha256"] == pkg["sha256"] and params["version"] == version
    url = params["url"]
    assert url.startswith(f"/device/v1/firmware/{pkg['id']}?sn=")
    r = await client.get(url)  # a plain download, no signing headers needed
    assert r.status_code == 200 and r.content == package
    # the URL is this device's: tampered, for another device, or expired, it is refused
    r = await client.get(url.replace(f"sn={dev.sn}", f"sn={other.sn}"))
    assert r.status_code == 403
    r = await client.get(url[:-4] + ("0000" if not url.endswith("0000") else "1111"))
    assert r.status_code == 403
    expired = url.split("&expires=")[0] + "&expires=1000&sig=" + url.split("&sig=")[1]
    assert (await client.get(expired)).status_code == 403
    # a secret rotation revokes it
    await client.post(f"{base}/secret", headers=h)
    assert (await client.get(url)).status_code == 403
    assert (await Device.get(sn=dev.sn)).target_firmware == version
