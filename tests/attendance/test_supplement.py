"""考勤补录 (rule 7): filing checks, each approval path, rejection, the two-node chain, refusals."""

from __future__ import annotations

import datetime as dt

from models import DailyAttendance, DayState, Post, Punch, PunchSource
from services import supplement
from services.identity import Principal
from tests.factories import (
    auth,
    enterprise_token,
    make_enterprise,
    make_member,
    make_person,
    make_post_holder,
    make_project,
    name_on_permit,
    person_token,
)

DAY = dt.date(2028, 3, 9)
ENTRY = dt.date(2028, 3, 1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _chain_world(with_supervisor: bool = True, pm_on_permit: bool = False):
    world = await make_project(with_supervisor=with_supervisor)
    worker = await make_member(world, entry_date=ENTRY)
    lo_person, _, _ = await make_person()
    await make_post_holder(world, Post.LABOUR_OFFICER, person=lo_person, entry_date=ENTRY)
    pm_person, _, _ = await make_person()
    if pm_on_permit:
        # a permit PM with no membership still gets a principal on the project
        await name_on_permit(world, pm_person, Post.PROJECT_MANAGER, unit=world.gc)
    else:
        await make_post_holder(world, Post.PROJECT_MANAGER, person=pm_person, entry_date=ENTRY)
    people = {"lo": lo_person, "pm": pm_person}
    if with_supervisor:
        people["cs"], _, _ = await make_person()
        await make_post_holder(
            world,
            Post.DEPUTY_CHIEF_SUPERVISOR,
            person=people["cs"],
            unit=world.supervisor,
            entry_date=ENTRY,
        )
    return world, worker, people


def _url(world, suffix: str = "") -> str:
    return f"/admin/v1/projects/{world.project.code}/supplements{suffix}"


async def _file(client, redis, world, worker, **over):
    token = await enterprise_token(redis, world.enterprises["gc"])
    body = {
        "member_id": worker.id,
        "date": DAY.isoformat(),
        "in_time": "07:30",
        "out_time": "17:45",
        "reason": "设备离线未能打卡",
    }
    body.update(over)
    return await client.post(_url(world), json=body, headers=auth(token))


async def _decide(client, redis, world, person, req_id, approve=True, comment="同意"):
    token = await person_token(redis, person)
    return await client.post(
        _url(world, f"/{req_id}/decision"),
        json={"approve": approve, "comment": comment},
        headers=auth(token),
    )


async def test_three_node_chain_creates_punches_and_settles(client, redis) -> None:
    """Labour officer → PM → deputy chief supervisor; the punches land and the day is normal."""
    world, worker, people = await _chain_world()
    r = await _file(client, redis, world, worker)
    assert r.status_code == 201, r.text
    req = r.json()
    assert [n["node"] for n in req["chain"]] == [
        "gc_labour_officer",
        "gc_project_manager",
        "chief_supervisor",
    ]
    assert req["state"] == "pending" and req["current_node"] == "gc_labour_officer"
    for who, expected_next in (("lo", "gc_project_manager"), ("pm", "chief_supervisor")):
        r = await _decide(client, redis, world, people[who], req["id"])
        assert r.status_code == 200, r.text
        assert r.json()["current_node"] == expected_next
    assert not await Punch.filter(member_id=worker.id).exists()
    r = await _decide(client, redis, world, people["cs"], req["id"])
    body = r.json()
    assert body["state"] == "approved" and body["current_node"] is None
    assert [h["node"] for h in body["history"]] == [n["node"] for n in req["chain"]]
    punches = await Punch.filter(member_id=worker.id).order_by("time")
    assert [(p.source, p.device_id, p.device_punch_id) for p in punches] == [
        (PunchSource.SUPPLEMENT, None, f"supplement:{req['id']}:in"),
        (PunchSource.SUPPLEMENT, None, f"supplement:{req['id']}:out"),
    ]
    day = await DailyAttendance.get(member_id=worker.id, day=DAY)
    assert day.state == DayState.NORMAL and day.duration_seconds == 10 * 3600 + 15 * 60
    # the requester sees the state and the history
    token = await enterprise_token(redis, world.enterprises["gc"])
    mine = (await client.get(_url(world), params={"scope": "mine"}, headers=auth(token))).json()
    assert mine["data"][0]["id"] == req["id"] and mine["data"][0]["state_label"] == "已通过"
    r = await _decide(client, redis, world, people["cs"], req["id"])
    assert r.status_code == 409 and r.json()["code"] == "already_decided"


async def test_two_node_chain_without_supervision_unit(client, redis) -> None:
    """No supervision unit: labour officer → the permit's PM, then done."""
    world, worker, people = await _chain_world(with_supervisor=False, pm_on_permit=True)
    req = (await _file(client, redis, world, worker, out_time="")).json()
    assert [n["node"] for n in req["chain"]] == ["gc_labour_officer", "gc_project_manager"]
    await _decide(client, redis, world, people["lo"], req["id"])
    r = await _decide(client, redis, world, people["pm"], req["id"])
    assert r.json()["state"] == "approved"
    day = await DailyAttendance.get(member_id=worker.id, day=DAY)
    assert day.state == DayState.ABNORMAL  # only an in-time was supplemented


async def test_rejection_ends_the_request(client, redis) -> None:
    """The PM rejects with a comment: rejected, no punches, nobody may decide again."""
    world, worker, people = await _chain_world()
    req = (await _file(client, redis, world, worker)).json()
    await _decide(client, redis, world, people["lo"], req["id"])
    r = await _decide(client, redis, world, people["pm"], req["id"], approve=False, comment="")
    assert r.status_code == 422 and r.json()["field"] == "comment"
    r = await _decide(
        client, redis, world, people["pm"], req["id"], approve=False, comment="无证明材料"
    )
    body = r.json()
    assert body["state"] == "rejected" and body["history"][-1]["comment"] == "无证明材料"
    assert [n["status"] for n in body["chain"]] == ["approved", "rejected", "waiting"]
    assert not await Punch.filter(member_id=worker.id).exists()
    r = await _decide(client, redis, world, people["cs"], req["id"])
    assert r.status_code == 409


async def test_only_the_current_node_and_chain_members_decide(client, redis) -> None:
    """The PM cannot jump the labour officer; a post person off the chain is refused."""
    world, worker, people = await _chain_world()
    req = (await _file(client, redis, world, worker)).json()
    r = await _decide(client, redis, world, people["pm"], req["id"])
    assert r.status_code == 403 and r.json()["code"] == "not_current_node"
    safety, _, _ = await make_person()
    await make_member(world, person=safety, person_type="management", post=Post.SAFETY_OFFICER)
    r = await _decide(client, redis, world, safety, req["id"])
    assert r.status_code == 403 and r.json()["code"] == "not_on_chain"
    # a labour officer of a subcontractor is not the GC's labour officer: the GC member's
    # request is not even in its row scope
    sub_lo, _, _ = await make_person()
    from models import ParticipatingUnit, UnitRole

    sub = await ParticipatingUnit.create(
        project=world.project, enterprise=await make_enterprise(), role=UnitRole.LABOUR_SUB
    )
    await make_member(
        world, person=sub_lo, person_type="management", post=Post.LABOUR_OFFICER, unit=sub
    )
    r = await _decide(client, redis, world, sub_lo, req["id"])
    assert r.status_code == 404 and r.json()["code"] == "supplement_not_found"
    token = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.post(
        _url(world, f"/{req['id']}/decision"), json={"approve": True}, headers=auth(token)
    )
    assert r.status_code == 403
    assert (await Punch.filter(member_id=worker.id).count()) == 0


async def test_filing_refusals(client, redis) -> None:
    """Non-labour members, future dates, bad times, unauthorised filers; nothing is stored."""
    world, worker, people = await _chain_world()
    manager = await make_member(
        world, person_type="management", post=Post.SAFETY_OFFICER, entry_date=ENTRY
    )
    r = await _file(client, redis, world, manager)
    assert r.status_code == 422 and r.json()["code"] == "not_labour"
    r = await _file(client, redis, world, worker, date="2028-03-11")
    assert r.status_code == 422 and r.json()["code"] == "future_date"
    r = await _file(client, redis, world, worker, date="2028-03-10", in_time="13:00", out_time="")
    assert r.status_code == 422 and r.json()["code"] == "future_date"
    r = await _file(client, redis, world, worker, in_time="18:00", out_time="08:00")
    assert r.status_code == 422 and r.json()["field"] == "out_time"
    r = await _file(client, redis, world, worker, in_time="", out_time="")
    assert r.status_code == 422 and r.json()["field"] == "in_time"
    r = await _file(client, redis, world, worker, reason="")
    assert r.status_code == 422 and r.json()["field"] == "reason"
    token = await enterprise_token(redis, world.enterprises["builder"])
    r = await client.post(
        _url(world),
        json={"member_id": worker.id, "date": "2028-03-09", "in_time": "08:00", "reason": "x"},
        headers=auth(token),
    )
    assert r.status_code == 403
    token = await person_token(redis, await worker.person)
    r = await client.post(
        _url(world),
        json={"member_id": worker.id, "date": "2028-03-09", "in_time": "08:00", "reason": "x"},
        headers=auth(token),
    )
    assert r.status_code == 404  # a worker has no standing on the project's admin screens
    token = await enterprise_token(redis, await make_enterprise())
    r = await client.post(_url(world), json={"member_id": worker.id}, headers=auth(token))
    assert r.status_code == 404  # cross-company: the project is invisible
    from models.supplement import SupplementRequest

    assert not await SupplementRequest.filter(member_id=worker.id).exists()
    # a post person with MANAGE may file; a second pending request for the day is refused
    r = await client.post(
        _url(world),
        json={"member_id": worker.id, "date": "2028-03-09", "in_time": "08:00", "reason": "补卡"},
        headers=auth(await person_token(redis, people["lo"])),
    )
    assert r.status_code == 201, r.text
    r = await _file(client, redis, world, worker)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_request"


async def test_multipart_evidence_and_queues(client, redis) -> None:
    """Evidence files are stored; each node's queue and pending_for show the waiting request."""
    world, worker, people = await _chain_world()
    token = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.post(
        _url(world),
        headers=auth(token),
        data={
            "member_id": str(worker.id),
            "date": "2028-03-09",
            "in_time": "08:00",
            "out_time": "17:00",
            "reason": "手机离线",
        },
        files=[("evidence", ("证明.png", PNG, "image/png"))],
    )
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["evidence"][0]["name"] == "证明.png"
    assert req["evidence"][0]["url"].endswith(f"/files/{req['evidence'][0]['id']}")
    r = await client.post(
        _url(world),
        headers=auth(token),
        data={"member_id": str(worker.id), "date": "2028-03-08", "in_time": "08:00", "reason": "x"},
        files=[("evidence", ("a.exe", b"MZ\x90\x00", "application/x"))],
    )
    assert r.status_code == 422 and r.json()["field"] == "evidence"
    lo_token = await person_token(redis, people["lo"])
    queue = (
        await client.get(_url(world), params={"scope": "queue"}, headers=auth(lo_token))
    ).json()
    assert [q["id"] for q in queue["data"]] == [req["id"]]
    pm_token = await person_token(redis, people["pm"])
    assert (
        await client.get(_url(world), params={"scope": "queue"}, headers=auth(pm_token))
    ).json()["total"] == 0
    lo_principal = Principal(kind="person", account_id=0, person_id=people["lo"].id)
    assert [p["id"] for p in await supplement.pending_for(lo_principal)] == [req["id"]]
    decided = await supplement.decide(lo_principal, req["id"], True, "属实")
    assert decided["current_node"] == "gc_project_manager"
    assert await supplement.pending_for(lo_principal) == []
    detail = (await client.get(_url(world, f"/{req['id']}"), headers=auth(pm_token))).json()
    assert detail["history"][0]["comment"] == "属实"
