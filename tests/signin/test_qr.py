"""Personal QR sign-in to the web through every ticket state (long-poll over ASGI)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import pytest

from models import AuditLog, Post
from services import signin
from tests.factories import auth, name_on_permit
from tests.signin.conftest import miniapp_login, synced_project, wechat_person


async def _ticket(client) -> dict:
    r = await client.post("/admin/v1/auth/qr/tickets")
    assert r.status_code == 201, r.text
    body = r.json()
    png = base64.b64decode(body["qr_image"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG") and body["ticket"].encode() in png  # scene = the ticket
    return body


async def _poll(client, t, known=None, wait=0, secret=None):
    params = {"secret": secret or t["secret"], "wait": wait}
    if known:
        params["known"] = known
    return await client.get(f"/admin/v1/auth/qr/tickets/{t['ticket']}", params=params)


async def _mini(client, token, ticket, action):
    return await client.post(f"/miniapp/v1/qr/{ticket}/{action}", headers=auth(token))


async def test_pending_scanned_confirmed_then_single_use(client):
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    t = await _ticket(client)
    r = await _poll(client, t)
    assert r.json()["status"] == "pending" and 0 < r.json()["expires_in"] <= signin.QR_TICKET_TTL

    r = await _mini(client, pm["token"], t["ticket"], "scan")
    assert r.status_code == 200 and r.json()["can_confirm"] is True
    assert r.json()["projects"][0]["code"] == world.project.code
    r = await _poll(client, t, known="pending", wait=2)
    assert r.json()["status"] == "scanned"

    # The web waits (long-poll) while the phone confirms.
    waiting = asyncio.create_task(_poll(client, t, known="scanned", wait=5))
    await asyncio.sleep(0.2)
    r = await _mini(client, pm["token"], t["ticket"], "confirm")
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = await waiting
    body = r.json()
    assert body["status"] == "confirmed" and body["account"]["kind"] == "person"
    assert "token=" in r.headers["set-cookie"]
    r = await client.get("/admin/v1/auth/me", headers=auth(body["token"]))
    assert r.status_code == 200 and r.json()["post_projects"][0]["code"] == world.project.code
    assert await AuditLog.filter(action="signin.qr", actor_id=str(pm["account"].id)).exists()

    # Single use: the session was handed out once; the ticket is gone for everybody.
    r = await _poll(client, t)
    assert r.status_code == 404 and r.json()["code"] == "ticket_invalid"
    r = await _mini(client, pm["token"], t["ticket"], "confirm")
    assert r.status_code == 404 and r.json()["code"] == "ticket_invalid"


async def test_permit_named_chief_supervisor_may_confirm(client):
    world = await synced_project()
    person = await wechat_person(client)  # on no project as a member...
    # ...but named on the permit
    await name_on_permit(world, person["person"], Post.CHIEF_SUPERVISOR, unit=world.supervisor)
    t = await _ticket(client)
    assert (await _mini(client, person["token"], t["ticket"], "scan")).json()["can_confirm"]
    r = await _mini(client, person["token"], t["ticket"], "confirm")
    assert r.status_code == 200
    assert (await _poll(client, t)).json()["status"] == "confirmed"


async def test_cancelled_by_the_phone(client):
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    t = await _ticket(client)
    await _mini(client, pm["token"], t["ticket"], "scan")
    r = await _mini(client, pm["token"], t["ticket"], "cancel")
    assert r.status_code == 200
    r = await _poll(client, t, known="scanned")
    assert r.json()["status"] == "cancelled" and "token" not in r.json()
    r = await _mini(client, pm["token"], t["ticket"], "confirm")
    assert r.status_code == 409 and r.json()["code"] == "ticket_used"


async def test_non_post_person_gets_the_reason(client):
    world = await synced_project()
    worker = await wechat_person(client, world, labour=True)
    t = await _ticket(client)
    r = await _mini(client, worker["token"], t["ticket"], "scan")
    assert r.status_code == 200
    assert r.json()["can_confirm"] is False and r.json()["reason"] == "not_post_personnel"
    r = await _mini(client, worker["token"], t["ticket"], "confirm")
    assert r.status_code == 403 and r.json()["code"] == "not_post_personnel"
    assert "岗位人员" in r.json()["message"]
    r = await _poll(client, t)
    assert r.json()["status"] == "cancelled" and r.json()["reason"] == "not_post_personnel"
    assert "token" not in r.json()
    assert await AuditLog.filter(
        action="signin.qr_refused", actor_id=str(worker["account"].id)
    ).exists()


async def test_unbound_wechat_user_cannot_scan(client):
    login = await miniapp_login(client)
    t = await _ticket(client)
    r = await _mini(client, login["token"], t["ticket"], "scan")
    assert r.status_code == 403 and r.json()["code"] == "not_bound"
    assert (await _poll(client, t)).json()["status"] == "pending"


async def test_second_phone_cannot_take_a_scanned_ticket(client):
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    other = await wechat_person(client, world, post=Post.LABOUR_OFFICER)
    t = await _ticket(client)
    await _mini(client, pm["token"], t["ticket"], "scan")
    for action in ("scan", "confirm", "cancel"):
        r = await _mini(client, other["token"], t["ticket"], action)
        assert r.status_code == 409 and r.json()["code"] == "ticket_taken", action


async def test_expiry(client, monkeypatch):
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    monkeypatch.setattr(signin, "QR_TICKET_TTL", 1)
    t = await _ticket(client)
    await _mini(client, pm["token"], t["ticket"], "scan")
    await asyncio.sleep(1.1)
    r = await _poll(client, t, known="scanned")
    assert r.json()["status"] == "expired" and "token" not in r.json()
    r = await _mini(client, pm["token"], t["ticket"], "confirm")
    assert r.status_code == 410 and r.json()["code"] == "ticket_expired"


async def test_web_secret_and_bad_input(client):
    t = await _ticket(client)
    r = await _poll(client, t, secret="guess")
    assert r.status_code == 404 and r.json()["code"] == "ticket_invalid"
    r = await client.get(f"/admin/v1/auth/qr/tickets/{t['ticket']}")  # no secret at all
    assert r.status_code == 404
    r = await _poll(client, t, wait=99)
    assert r.status_code == 422 and r.json()["field"] == "wait"
    r = await client.get(
        f"/admin/v1/auth/qr/tickets/{t['ticket']}", params={"secret": t["secret"], "wait": "soon"}
    )
    assert r.status_code == 422 and r.json()["field"] == "wait"
    r = await client.get("/admin/v1/auth/qr/tickets/no*such", params={"secret": "x"})
    assert r.status_code == 404 and r.json()["code"] == "ticket_invalid"


WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


async def test_scan_shows_who_asked_and_foreign_network_is_flagged(client, client_at):
    """Issue 12 item 4 (QRLJacking): the phone sees the requesting browser before confirming."""
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    attacker = client_at("198.51.100.10")
    before = dt.datetime.now(dt.UTC)
    r = await attacker.post("/admin/v1/auth/qr/tickets", headers={"User-Agent": WINDOWS_CHROME})
    t = r.json()
    r = await _mini(client, pm["token"], t["ticket"], "scan")  # the phone: 127.0.0.1
    assert r.status_code == 200, r.text
    who = r.json()["requester"]
    assert who["ip"] == "198.51.100.10" and who["region"] == "未知" and who["region_code"] is None
    assert who["user_agent"] == WINDOWS_CHROME and who["browser"] == "Chrome 131 · Windows"
    asked = dt.datetime.fromisoformat(who["requested_at"])
    assert asked.utcoffset() == dt.timedelta(hours=8)  # shown in local time (Asia/Shanghai)
    assert abs((asked - before).total_seconds()) < 5
    assert who["requested_at_text"] == asked.strftime("%Y-%m-%d %H:%M:%S")
    assert who["same_network"] is False and "取消" in r.json()["notice"]
    r = await _mini(client, pm["token"], t["ticket"], "confirm")
    assert r.status_code == 200 and r.json()["requester"]["ip"] == "198.51.100.10"
    row = await AuditLog.get(action="signin.qr_confirmed", target=t["ticket"][:8])
    assert row.detail["network_mismatch"] is True and row.detail["requester_ip"] == "198.51.100.10"

    # Same network (a /24 for IPv4): not flagged.
    t = await _ticket(client_at("127.0.0.9"))
    r = await _mini(client, pm["token"], t["ticket"], "scan")
    assert r.json()["requester"]["same_network"] is True
    assert r.json()["requester"]["browser"] == "其他"  # httpx's own user agent
    await _mini(client, pm["token"], t["ticket"], "confirm")
    row = await AuditLog.get(action="signin.qr_confirmed", target=t["ticket"][:8])
    assert row.detail["network_mismatch"] is False


async def test_requester_region_from_the_operators_table(database):
    table = "198.51.100.0/24=630100, 198.51.100.128/25=630102, 2001:db8::/32=632200"
    data = {"ip": "198.51.100.200", "created_at": "0", "ua": ""}
    view = await signin.requester_view(data, phone_ip="10.0.0.1", ip_regions=table, tz="UTC")
    assert (view["region"], view["region_code"]) == ("青海省西宁市城东区", "630102")
    assert view["requested_at"] == "1970-01-01T00:00:00+00:00" and view["browser"] == "未知"
    data["ip"] = "198.51.100.5"
    view = await signin.requester_view(data, phone_ip="10.0.0.1", ip_regions=table, tz="UTC")
    assert view["region"] == "青海省西宁市"
    data["ip"] = "2001:db8:1::5"
    view = await signin.requester_view(data, phone_ip="10.0.0.1", ip_regions=table, tz="UTC")
    assert view["region"] == "青海省海北藏族自治州"
    data["ip"] = "203.0.113.1"
    view = await signin.requester_view(data, phone_ip="10.0.0.1", ip_regions=table, tz="UTC")
    assert (view["region"], view["region_code"]) == ("未知", None)


def test_ip_regions_setting_checked():
    from config.settings import Settings

    for bad in ("198.51.100.0/24", "198.51.100.0/24=xining", "nonsense=630100"):
        with pytest.raises(ValueError, match="IP_REGIONS"):
            Settings(env="test", ip_regions=bad)
    assert Settings(env="test", ip_regions="10.0.0.0/8=630100").ip_regions


def test_user_agent_labels():
    assert signin.describe_user_agent(WINDOWS_CHROME) == "Chrome 131 · Windows"
    edge = WINDOWS_CHROME + " Edg/130.0.2849.80"
    assert signin.describe_user_agent(edge) == "Edge 130 · Windows"
    safari = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Safari/605.1.15"
    )
    assert signin.describe_user_agent(safari) == "Safari 17 · macOS"
    assert signin.describe_user_agent("") == "未知"
