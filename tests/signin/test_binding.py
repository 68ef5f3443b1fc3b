"""Real-name binding: matching phone binds at once; otherwise the labour officer decides."""

from __future__ import annotations

from integrations.wechat.standin import standin_phone_code
from models import Account, AuditLog, PersonType, Post
from models.binding import BindingRequest, WeChatBinding
from tests.factories import auth, make_member, make_phone, person_token
from tests.signin.conftest import (
    enrolled_person,
    miniapp_login,
    synced_project,
    valid_id_number,
)


async def _bind(client, token, **body):
    return await client.post("/miniapp/v1/binding", json=body, headers=auth(token))


async def _claim(client, token, name, id_number, wechat_phone):
    """Bind `token`'s WeChat user, whose WeChat phone is `wechat_phone`, to the person named."""
    return await _bind(
        client, token, name=name, id_number=id_number, phone_code=standin_phone_code(wechat_phone)
    )


async def test_matching_phone_binds_and_reissues_token(client):
    person, number, phone = await enrolled_person()
    login = await miniapp_login(client)
    r = await _claim(client, login["token"], person.name, number, phone)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (
        body["status"] == "bound" and body["person"]["id_number_masked"] == person.id_number_masked
    )
    assert number not in r.text and phone not in r.text
    # The old token stood for an unbound account: revoked; the new one carries the person.
    r = await client.get("/miniapp/v1/binding", headers=auth(login["token"]))
    assert r.status_code == 401
    r = await client.get("/miniapp/v1/binding", headers=auth(body["token"]))
    assert r.json()["bound"] is True and r.json()["method"] == "phone"
    account = await Account.get(person_id=person.id, wechat_openid__isnull=False)
    assert await AuditLog.filter(action="binding.bound", actor_id=str(account.id)).exists()

    # One person ↔ one WeChat account: a second WeChat user cannot take the same person.
    other = await miniapp_login(client)
    r = await _claim(client, other["token"], person.name, number, phone)
    # (told so only because its WeChat phone is the enrolled one; with another phone it is the
    # same 404 as a wrong name)
    assert r.status_code == 409 and r.json()["code"] == "person_already_bound"
    r = await _claim(client, other["token"], person.name, number, make_phone())
    assert r.status_code == 404 and r.json()["code"] == "person_not_matched"
    # ...and a bound account cannot bind a second person.
    second, number2, phone2 = await enrolled_person()
    r = await _claim(client, body["token"], second.name, number2, phone2)
    assert r.status_code == 409 and r.json()["code"] == "account_already_bound"

    # Unbinding is audited and frees the person.
    r = await client.delete("/miniapp/v1/binding", headers=auth(body["token"]))
    assert r.status_code == 200 and r.json()["bound"] is False
    assert not await WeChatBinding.exists(person_id=person.id)
    assert await AuditLog.filter(action="binding.unbound", target=f"person:{person.id}").exists()
    r = await client.get("/miniapp/v1/binding", headers=auth(body["token"]))
    assert r.status_code == 401  # tokens that carried the person are gone
    r = await _claim(client, other["token"], person.name, number, phone)
    assert r.status_code == 201


async def test_bad_input_names_the_field_and_changes_nothing(client):
    person, number, phone = await enrolled_person()
    login = await miniapp_login(client)
    cases = [
        ({"id_number": number, "phone_code": standin_phone_code(phone)}, 422, "required", "name"),
        (
            {"name": person.name, "id_number": "123", "phone_code": standin_phone_code(phone)},
            422,
            "invalid_id_number",
            "id_number",
        ),
        (
            {
                "name": person.name,
                "id_number": number[:-1] + ("0" if number[-1] != "0" else "1"),
                "phone_code": standin_phone_code(phone),
            },
            422,
            "invalid_id_number",
            "id_number",
        ),
        ({"name": person.name, "id_number": number}, 422, "required", "phone_code"),
        (
            {"name": "别人", "id_number": number, "phone_code": standin_phone_code(phone)},
            404,
            "person_not_matched",
            "id_number",
        ),
        (
            {
                "name": person.name,
                "id_number": valid_id_number(),
                "phone_code": standin_phone_code(phone),
            },
            404,
            "person_not_matched",
            "id_number",
        ),
        (
            {"name": person.name, "id_number": number, "phone_code": "garbage"},
            400,
            "wechat_invalid_code",
            None,
        ),
    ]
    for body, status, code, field in cases:
        r = await _bind(client, login["token"], **body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["code"] == code and r.json().get("field") == field, (body, r.text)
        assert r.json()["message"]  # a Chinese sentence for the user
    assert not await WeChatBinding.exists(person_id=person.id)
    assert not await BindingRequest.exists(person_id=person.id)
    # An account that is not a WeChat user cannot bind.
    r = await _claim(
        client,
        await person_token(client._transport.app.ctx.redis, person),
        person.name,
        number,
        phone,
    )
    assert r.status_code == 403


async def test_mismatching_phone_waits_for_labour_officer(client, redis):
    world = await synced_project()
    person, number, _ = await enrolled_person()
    await make_member(world, person=person)
    officer, _, _ = await enrolled_person()
    await make_member(
        world, person=officer, person_type=PersonType.MANAGEMENT, post=Post.LABOUR_OFFICER
    )
    officer_token = await person_token(redis, officer)
    login = await miniapp_login(client)
    wechat_phone = make_phone()
    r = await _claim(client, login["token"], person.name, number, wechat_phone)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending" and r.json()["request"]["status"] == "pending"
    assert not await WeChatBinding.exists(person_id=person.id)

    base = f"/admin/v1/projects/{world.project.code}/binding-requests"
    # A worker of the project has no say; a company on another project sees nothing.
    worker, _, _ = await enrolled_person()
    await make_member(world, person=worker)
    r = await client.get(base, headers=auth(await person_token(redis, worker)))
    assert r.status_code == 404
    r = await client.get(base, headers=auth(officer_token))
    assert r.status_code == 200
    rows = [row for row in r.json()["data"] if row["person"]["name"] == person.name]
    assert len(rows) == 1 and rows[0]["wechat_phone_masked"].count("*") == 4
    assert wechat_phone not in r.text and number not in r.text
    request_id = rows[0]["id"]

    r = await client.post(f"{base}/{request_id}/reject", json={}, headers=auth(officer_token))
    assert r.status_code == 422 and r.json()["field"] == "note"
    r = await client.post(f"{base}/{request_id}/approve", headers=auth(officer_token))
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert await WeChatBinding.exists(person_id=person.id, method="officer")
    r = await client.post(f"{base}/{request_id}/approve", headers=auth(officer_token))
    assert r.status_code == 409 and r.json()["code"] == "binding_request_decided"
    assert await AuditLog.filter(action="binding.approved", project_id=world.project.id).exists()
    # The mini-program signs in again (its old token carried no person) and is bound.
    r = await client.get("/miniapp/v1/binding", headers=auth(login["token"]))
    assert r.status_code == 401


async def test_officer_rejects(client, redis):
    world = await synced_project()
    person, number, _ = await enrolled_person()
    await make_member(world, person=person)
    gc_token = None
    from tests.factories import enterprise_token

    gc_token = await enterprise_token(redis, world.enterprises["gc"])
    login = await miniapp_login(client)
    r = await _claim(client, login["token"], person.name, number, make_phone())
    request_id = r.json()["request"]["id"]
    base = f"/admin/v1/projects/{world.project.code}/binding-requests"
    r = await client.post(
        f"{base}/{request_id}/reject",
        json={"note": "手机号不符，请到现场核实"},
        headers=auth(gc_token),
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = await client.get("/miniapp/v1/binding", headers=auth(login["token"]))
    assert r.json()["request"]["status"] == "rejected"
    assert r.json()["request"]["decision_note"] == "手机号不符，请到现场核实"
    # Another project's officer cannot decide it.
    other = await synced_project()
    r = await client.post(
        f"/admin/v1/projects/{other.project.code}/binding-requests/{request_id}/approve",
        headers=auth(await enterprise_token(redis, other.enterprises["gc"])),
    )
    assert r.status_code == 404


async def test_mismatch_without_project_is_refused(client):
    person, number, _ = await enrolled_person()  # enrolled, but on no project any more
    login = await miniapp_login(client)
    r = await _claim(client, login["token"], person.name, number, make_phone())
    # The same answer as a wrong name: nothing says this person is enrolled.
    assert r.status_code == 404 and r.json()["code"] == "person_not_matched"
    assert r.json()["field"] == "id_number"
    refused = await AuditLog.filter(action="binding.refused", target=f"person:{person.id}").first()
    assert refused is not None and refused.detail["reason"] == "phone_mismatch_no_project"


async def test_binding_answers_reveal_nothing_about_enrolment(client):
    """Issue 12 item 3: every way of being wrong looks the same from outside."""
    person, number, phone = await enrolled_person()
    bound, bound_number, bound_phone = await enrolled_person()
    holder = await miniapp_login(client)
    await _claim(client, holder["token"], bound.name, bound_number, bound_phone)
    guesses = [
        (person.name, valid_id_number()),  # nobody enrolled under this ID number
        ("别人", number),  # enrolled, wrong name
        (bound.name, bound_number),  # enrolled and bound to another WeChat account
        (person.name, number),  # enrolled, right name, phone differs, on no project
    ]
    attacker = await miniapp_login(client)
    # A junk phone code fails first, whoever is asked for.
    junk = set()
    for name, id_number in guesses:
        r = await _bind(
            client, attacker["token"], name=name, id_number=id_number, phone_code="junk"
        )
        junk.add((r.status_code, r.text))
    assert len(junk) == 1 and next(iter(junk))[0] == 400
    # With a real phone code (the attacker's own phone): one identical 404 for all four.
    answers = set()
    for name, id_number in guesses:
        r = await _claim(client, attacker["token"], name, id_number, make_phone())
        answers.add((r.status_code, r.text))
    assert len(answers) == 1
    status, text = next(iter(answers))
    assert status == 404 and '"person_not_matched"' in text
    # Every attempt is in the audit log with the real reason (for officers), no plaintext.
    account = await Account.get(id=(await _account_of(client, attacker["token"])))
    rows = await AuditLog.filter(action="binding.refused", actor_id=str(account.id)).order_by("id")
    assert [r.detail["reason"] for r in rows] == ["wechat_invalid_code"] * 4 + [
        "unknown_id_number",
        "wrong_name",
        "person_bound_elsewhere",
        "phone_mismatch_no_project",
    ]
    assert [r.target for r in rows[-3:]] == [
        f"person:{person.id}",
        f"person:{bound.id}",
        f"person:{person.id}",
    ]
    assert all(number not in str(r.detail) and phone not in str(r.detail) for r in rows)
    assert not await WeChatBinding.exists(person_id=person.id)


async def _account_of(client, token) -> int:
    from services import identity

    return (await identity.resolve_token(client._transport.app.ctx.redis, token)).account_id
