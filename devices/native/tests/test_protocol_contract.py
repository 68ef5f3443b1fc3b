"""The native protocol on the API contract (issue 9): declared routes, signing first, hostile
bodies refused with the contract's codes, and every reply matching its declared model."""

from __future__ import annotations

import json

from models import Punch
from realname.contract import declaration
from services.schemas.device_protocol import (
    CommandAckReply,
    DeviceOptions,
    EnrolmentReply,
    HeartbeatReply,
    PersonsDelta,
    PunchResults,
)
from tests.devices.helpers import JPEG_B64, call, make_device, punch
from tests.factories import make_member, make_project


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def test_every_native_route_is_a_declared_device_route(app):
    routes = [
        r for r in app.router.routes if r.path.startswith("device/v1/") and "HEAD" not in r.methods
    ]
    assert len(routes) == 9
    for route in routes:
        decl = declaration(route.handler)
        assert decl is not None, route.path
        # the firmware download is signed in its URL (no headers); the rest by the device
        assert decl.access.is_device or route.path.startswith("device/v1/firmware/"), route.path
        assert not decl.access.is_public, route.path
        assert decl.summary and decl.response is not None, route.path


async def test_document_shows_bodies_and_the_device_security(client):
    spec = (await client.get("/docs/openapi.json")).json()
    op = spec["paths"]["/device/v1/punches"]["post"]
    assert op["summary"] == "上传考勤记录"
    assert {k for s in op["security"] for k in s} == {
        "deviceSn",
        "deviceTimestamp",
        "deviceNonce",
        "deviceSignature",
    }
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/PunchBatch")
    punch_in = spec["components"]["schemas"]["PunchIn"]["properties"]
    assert {"id", "person_id", "id_number", "time", "direction", "liveness", "photo"} <= set(
        punch_in
    )
    assert {"401", "403", "413"} <= set(op["responses"])
    persons = spec["paths"]["/device/v1/persons"]["get"]
    assert [p["name"] for p in persons["parameters"]] == ["cursor"]


async def test_unsigned_request_is_refused_before_its_body_is_read(client):
    r = await client.post("/device/v1/punches", content=b"{not json")
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"


async def test_json_nested_1000_deep_inside_a_punch_is_a_4xx_and_stores_nothing(client):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world)
    good = json.dumps(punch("ok-1", member.person_id))
    for where in ("extra", "id", "time", "photo"):
        item = json.dumps(punch(f"deep-{where}", member.person_id))
        body = f'{{"punches": [{good}, {item[:-1]}, "{where}": {_nested(1000)}}}]}}'
        r = await call(client, dev, "POST", "/device/v1/punches", raw=body.encode())
        assert r.status_code == 422, (where, r.text)
        assert r.json()["code"] == "bad_field" and r.json()["field"] == f"punches[1].{where}"
    r = await call(client, dev, "POST", "/device/v1/heartbeat", raw=_nested(1000).encode())
    assert r.status_code == 422 and r.json()["code"] == "bad_field"
    assert await Punch.filter(member_id=member.id).count() == 0
    # A body as deep as the contract's own still works: one result per punch, in order.
    r = await call(
        client, dev, "POST", "/device/v1/punches", raw=f'{{"punches": [{good}]}}'.encode()
    )
    assert r.status_code == 200 and r.json()["results"] == [{"id": "ok-1", "status": "accepted"}]


async def test_cursor_beyond_a_bigint_is_bad_field(client):
    dev = await make_device(await make_project())
    for cursor in ("9" * 30 + ".1", "1." + "9" * 30, "x" * 65, "abc"):
        r = await call(client, dev, "GET", f"/device/v1/persons?cursor={cursor}")
        assert r.status_code == 422 and r.json() == {
            "code": "bad_field",
            "message": "cursor 无效",
            "field": "cursor",
        }, cursor


async def test_replies_validate_against_their_declared_models(client):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world)
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0", "persons": 1})
    HeartbeatReply.model_validate(r.json())
    items = [punch("r1", member.person_id, photo=JPEG_B64), punch("r2", 99_999_999), {"id": 5}]
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": items})
    results = PunchResults.model_validate(r.json()).results
    assert [x.status for x in results] == ["accepted", "rejected", "rejected"]
    r = await call(client, dev, "GET", "/device/v1/persons")
    delta = PersonsDelta.model_validate(r.json())
    assert member.id in [int(p.pin) for p in delta.persons]
    r = await call(client, dev, "GET", f"/device/v1/persons?cursor={delta.cursor}&extra=1")
    assert r.status_code == 200  # terminals' extra parameters are ignored, not refused
    collector = await make_device(world, kind="collection")
    r = await call(client, collector, "GET", "/device/v1/options")
    found = DeviceOptions.model_validate(r.json())
    assert found.changed and found.units
    r = await call(client, collector, "GET", f"/device/v1/options?version={found.version}")
    assert DeviceOptions.model_validate(r.json()).changed is False
    assert r.json() == {"version": found.version, "changed": False}


async def test_ack_reply_model(client):
    from models import Device
    from services import devices as svc

    world = await make_project()
    dev = await make_device(world)
    await svc.queue_command(await Device.get(sn=dev.sn), "sync_persons", {"full": True})
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {})
    (cmd,) = HeartbeatReply.model_validate(r.json()).commands
    assert cmd.type == "sync_persons" and cmd.params == {"full": True}
    r = await call(client, dev, "POST", f"/device/v1/commands/{cmd.id}/ack", {"ok": True})
    assert r.status_code == 200, r.text
    assert CommandAckReply.model_validate(r.json()).status == "done"
    r = await call(client, dev, "POST", f"/device/v1/commands/{cmd.id}/ack", {"ok": "yes"})
    assert r.status_code == 422 and r.json()["code"] == "bad_field" and r.json()["field"] == "ok"


def test_enrolment_reply_model_fields():
    assert set(EnrolmentReply.model_fields) == {
        "person_id",
        "member_id",
        "pin",
        "created",
        "face_sha256",
    }


def test_every_adms_route_is_a_declared_device_route(app):
    routes = [
        r for r in app.router.routes if r.path.startswith("iclock") and "HEAD" not in r.methods
    ]
    assert len(routes) == 19  # nine endpoints, each also as .aspx, and the plain-text 404
    for route in routes:
        decl = declaration(route.handler)
        assert decl is not None and decl.access.is_device, route.path
        assert decl.content_type == "text/plain" and decl.summary.startswith("ADMS"), route.path


async def test_adms_in_the_document_as_plain_text(client):
    spec = (await client.get("/docs/openapi.json")).json()
    op = spec["paths"]["/iclock/cdata"]["get"]
    assert op["summary"].startswith("ADMS 握手")
    assert "text/plain" in op["responses"]["200"]["content"]
    assert {"SN", "table", "options"} <= {p["name"] for p in op["parameters"]}


async def test_adms_wire_unchanged_by_the_declaration(client):
    """Parameters the contract does not list are still ignored; errors stay plain text."""
    r = await client.get("/iclock/cdata?SN=NOPE-1&options=all&pushver=2.4.1&DeviceType=att")
    assert r.status_code == 403 and r.text == "ERROR: device unknown"
    assert r.headers["content-type"].startswith("text/plain") and "Date" in r.headers
    r = await client.get("/iclock/" + "x" * 100 + "?foo=1")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")


async def test_non_finite_numbers_in_a_punch_are_bad_field_and_store_nothing(client):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world)
    for value in ("Infinity", "-Infinity", "NaN", "1e400"):
        raw = f'{{"punches": [{{"id": "nf", "person_id": {member.person_id}, "lat": {value}}}]}}'
        r = await call(client, dev, "POST", "/device/v1/punches", raw=raw.encode())
        assert r.status_code == 422 and r.json()["code"] == "bad_field", (value, r.text)
        assert r.json()["field"] == "punches[0].lat"
    assert await Punch.filter(member_id=member.id).count() == 0
