"""The web learns the QR ticket's fate over a WebSocket (a real `realname serve` process)."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from models import Post
from tests.factories import auth
from tests.signin.conftest import synced_project, wechat_person


async def _recv(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))


async def test_websocket_pushes_scanned_then_confirmed_with_session(client, live_server):
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as web:
        r = await web.post("/admin/v1/auth/qr/tickets")
        assert r.status_code == 201, r.text
        t = r.json()
    url = f"ws://{live_server}/admin/v1/auth/qr/tickets/{t['ticket']}/ws?secret={t['secret']}"
    async with websockets.connect(url) as ws:
        assert (await _recv(ws))["status"] == "pending"
        # The phone (served by the in-process app: same Redis) scans and confirms.
        r = await client.post(f"/miniapp/v1/qr/{t['ticket']}/scan", headers=auth(pm["token"]))
        assert r.status_code == 200
        assert (await _recv(ws))["status"] == "scanned"
        r = await client.post(f"/miniapp/v1/qr/{t['ticket']}/confirm", headers=auth(pm["token"]))
        assert r.status_code == 200
        final = await _recv(ws)
        assert final["status"] == "confirmed" and final["token"]
        await asyncio.wait_for(ws.wait_closed(), timeout=5)
    r = await client.get("/admin/v1/auth/me", headers=auth(final["token"]))
    assert r.status_code == 200 and r.json()["kind"] == "person"


async def test_websocket_wrong_secret_gets_error_and_close(live_server, client):
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as web:
        t = (await web.post("/admin/v1/auth/qr/tickets")).json()
    url = f"ws://{live_server}/admin/v1/auth/qr/tickets/{t['ticket']}/ws?secret=guess"
    async with websockets.connect(url) as ws:
        assert (await _recv(ws))["code"] == "ticket_invalid"
        await asyncio.wait_for(ws.wait_closed(), timeout=5)
