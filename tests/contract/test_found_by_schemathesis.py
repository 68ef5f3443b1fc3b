"""Regression tests, one per distinct cause the schemathesis run (test_schemathesis.py) found."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from models import Device, Punch, Team
from tests.devices.helpers import call, device_world, make_device
from tests.factories import auth, enterprise_token, make_project, token_for

DOCUMENT = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


async def served(client: Any) -> dict[str, Any]:
    r = await client.get("/docs/openapi.json")
    assert r.status_code == 200
    return r.json()


async def test_sso_redirects_are_documented(client):
    """GET /auth/sso/start answered 302, a status its operation did not declare."""
    r = await client.get("/admin/v1/auth/sso/start")
    assert r.status_code == 302 and r.headers["location"].startswith("http")
    spec = await served(client)
    for path in ("/admin/v1/auth/sso/start", "/admin/v1/auth/sso/callback"):
        reply = spec["paths"][path]["get"]["responses"]["302"]
        assert "Location" in reply["headers"] and reply["description"]


async def test_adms_refusals_are_documented_as_plain_text(client):
    """/iclock answered 400/403 in plain text while its operations declared JSON 401/422 and
    the native signature headers; ADMS terminals are named by ``SN`` and read no JSON."""
    r = await client.get("/iclock/cdata")
    assert r.status_code == 400 and r.text == "ERROR: missing SN"
    r = await client.get("/iclock/cdata?SN=NOSUCHTERMINAL")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/plain")
    spec = await served(client)
    op = spec["paths"]["/iclock/cdata"]["get"]
    assert op["security"] == [{"admsSerial": []}]
    scheme = spec["components"]["securitySchemes"]["admsSerial"]
    assert (scheme["in"], scheme["name"]) == ("query", "SN")
    for status in ("400", "403", "413", "422"):
        assert list(op["responses"][status]["content"]) == ["text/plain"], status


async def test_qr_websocket_operation_is_in_the_committed_document():
    """The WebSocket's operation was patched in only by a listener of the running app, so the
    committed document (the web console's types) had it without security or responses."""
    op = json.loads(DOCUMENT.read_text(encoding="utf-8"))["paths"][
        "/admin/v1/auth/qr/tickets/{ticket}/ws"
    ]["get"]
    assert op["security"] == [{}] and "200" in op["responses"]


async def test_heartbeat_counts_beyond_the_column_are_bad_field(client):
    """A heartbeat reporting 15748365902 persons was a PostgreSQL 500 (32-bit column)."""
    world = await make_project()
    dev = await make_device(world)
    for key in ("persons", "faces"):
        r = await call(client, dev, "POST", "/device/v1/heartbeat", {key: 15748365902})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "bad_field" and r.json()["field"] == key
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"persons": 10_000_000})
    assert r.status_code == 200
    assert (await Device.get(sn=dev.sn)).person_count == 10_000_000


async def test_unstorable_text_in_a_device_body_is_bad_field(client):
    """A NUL inside a punch was a PostgreSQL 500 (jsonb/text cannot hold it); lone surrogates
    cannot be written as UTF-8 at all."""
    _, dev, member = await device_world()
    for raw in (
        '{"punches": [{"id": "n1", "person_id": %d, "note": "a\\u0000b"}]}',
        '{"punches": [{"id": "n2", "person_id": %d, "note": "\\ud800"}]}',
        '{"punches": [{"id": "n3", "person_id": %d, "x\\u0000": 1}]}',
    ):
        r = await call(client, dev, "POST", "/device/v1/punches", raw=(raw % member.id).encode())
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "bad_field" and r.json()["field"].startswith("punches[0]")
    assert await Punch.filter(member_id=member.id).count() == 0


async def test_nul_in_admin_paths_queries_and_bodies_is_a_4xx(client, redis):
    """NUL in a search term was a PostgreSQL 500 (a text parameter cannot hold it); a path
    code or a body text with NUL must not reach the database either."""
    world = await make_project()
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    base = f"/admin/v1/projects/{world.project.code}"
    r = await client.get(f"{base}/teams?name=a%00b", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "name", r.text
    r = await client.get(f"{base}/devices?q=a%00", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "q", r.text
    r = await client.get(f"/admin/v1/projects/{world.project.code}%00/teams", headers=h)
    assert r.status_code == 404, r.text
    body = {"name": "a\x00b", "unit_id": world.gc.id}
    r = await client.post(f"{base}/teams", headers=h, json=body)
    assert r.status_code == 422 and r.json()["code"] == "invalid_field", r.text
    assert await Team.filter(project_id=world.project.id).count() == 1  # the world's own


async def test_permit_rows_beyond_their_columns_are_reported(client, redis):
    """The import's array body was undocumented, so nothing generated rows for it; once
    documented (PermitRow), over-long texts and huge costs were PostgreSQL 500s. Each is now
    reported by index and field, and the valid row is imported."""
    from models import Account, AccountKind, Project

    operator = await Account.create(kind=AccountKind.OPERATOR, display_name="平台运维")
    h = auth(await token_for(redis, operator))
    good = {"code": "PIMPORTOK1", "name": "导入项目", "region_code": "630102"}
    rows = [
        {**good, "code": "P" * 65},
        {**good, "code": "PIMPORT2", "name": "名" * 201},
        {**good, "code": "PIMPORT3", "permit_authority": "机" * 129},
        {**good, "code": "PIMPORT4", "cost": "1e20"},
        {**good, "code": "PIMPORT5", "cost": "NaN"},
        {**good, "code": "PIMPORT6", "type": {"a": 1}},
        {**good, "code": "PIMPORT7", "name": "a\x00b"},
        {**good, "code": "PIMPORT8", "units": [{"role": "builder", "name": "企" * 129}]},
        good,
    ]
    r = await client.post("/admin/v1/projects/import", headers=h, json=rows)
    assert r.status_code == 200, r.text
    result = r.json()
    fields = [(e["index"], e["field"]) for e in result["errors"]]
    assert fields == [
        (0, "code"),
        (1, "name"),
        (2, "permit_authority"),
        (3, "cost"),
        (4, "cost"),
        (5, "type"),
        (6, "name"),
        (7, "units[0].name"),
    ]
    assert (result["created"], result["total"]) == (1, 9)
    assert await Project.filter(code="PIMPORTOK1").exists()
    spec = await served(client)
    body = spec["paths"]["/admin/v1/projects/import"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["type"] == "array" and schema["items"]["$ref"].endswith("/PermitRow")


async def test_punch_person_ids_beyond_the_column_are_bad_field(client):
    """A punch with person_id -6634517017087492302569472 was a PostgreSQL 500: the batch's member
    lookup could not bind it as a 32-bit int. Such a punch is rejected as bad_field person_id;
    the batch's other punches are stored as usual."""
    _, dev, member = await device_world()
    now = dt.datetime.now(dt.UTC).isoformat()
    punch = {"time": now, "direction": "in", "liveness": True}
    bad = [-6634517017087492302569472, 2**31, 0, -1, True, 12.5, "12a", "9" * 5000, [1]]
    batch = [{"id": f"b{i}", "person_id": v, **punch} for i, v in enumerate(bad)]
    batch.append({"id": "ok", "person_id": member.person_id, **punch})  # type: ignore[attr-defined]
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": batch})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    for result in results[:-1]:
        assert (result["status"], result["reason"], result["field"]) == (
            "rejected",
            "bad_field",
            "person_id",
        ), result
    assert results[-1]["status"] == "accepted", results[-1]
    assert await Punch.filter(member_id=member.id).count() == 1
    # a terminal sending the id as digits, or as an integral number, names the person
    as_text = [
        {"id": "text", "person_id": f" {member.person_id} ", **punch},
        {"id": "float", "person_id": float(member.person_id), **punch},
    ]
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": as_text})
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"], r.text
    raw = (
        b'{"punches": [{"id": "inf", "person_id": 1e400, "time": "%s", "direction": "in",'
        % (now.encode())
        + b' "liveness": true}]}'
    )
    r = await call(client, dev, "POST", "/device/v1/punches", raw=raw)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["results"][0]["field"] == "person_id"


async def test_punch_person_id_is_documented_as_read(client):
    """The document said ``person_id: integer`` with no bounds, while the parser takes 1..2³¹−1,
    as a number or its digits as text: a device maker reading it could not know either. Each
    value below is within the documented schema exactly when the parser reads a person from it."""
    import re

    from devices.native.parser import parse_native
    from realname.contract import INT_MAX

    spec = await served(client)
    prop = spec["components"]["schemas"]["PunchIn"]["properties"]["person_id"]
    (number,) = [s for s in prop["anyOf"] if s.get("type") == "integer"]
    (text,) = [s for s in prop["anyOf"] if s.get("type") == "string"]
    assert (number["minimum"], number["maximum"]) == (1, INT_MAX)

    def documented(v: Any) -> bool:
        if isinstance(v, bool):
            return False
        if isinstance(v, int | float):
            return float(v).is_integer() and number["minimum"] <= v <= number["maximum"]
        # the pattern gives the form; the range is the number's (digits beyond it are rejected)
        return bool(re.search(text["pattern"], v)) and 1 <= int(v) <= INT_MAX

    now = dt.datetime.now(dt.UTC).isoformat()
    values: list[Any] = [1, 1042, INT_MAX, 0, -1, INT_MAX + 1, 1042.0, 12.5, True]
    values += ["1042", " 1042 ", "0", "12a", "1e3", "١٢", "2147483648", "9" * 11, ""]
    for v in values:
        raw = {"id": "p", "person_id": v, "time": now, "direction": "in", "liveness": True}
        assert (parse_native(raw).error != "person_id") == documented(v), v
