"""考勤补录 and the punch rules: a member whose punches would be blocked on the day (here: the
contract red warning, more than 30 days on site without a labour contract) can neither get a
request filed nor have one approved; the refusal names the reason and stores nothing."""

from __future__ import annotations

import datetime as dt

from models import Punch
from models.contracts import LabourContract
from models.supplement import SupplementRequest
from tests.attendance.test_supplement import _chain_world, _decide, _file
from tests.factories import make_contract, make_member

LONG_AGO = dt.date(2028, 1, 15)  # 54 days before DAY: red without a contract


async def _contract(world, member) -> LabourContract:
    return await make_contract(member, start_date=LONG_AGO)


async def test_filing_refused_for_a_member_under_contract_red_warning(client, redis) -> None:
    world, _, _ = await _chain_world(with_supervisor=False)
    red = await make_member(world, entry_date=LONG_AGO)
    r = await _file(client, redis, world, red)
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["code"], body["field"]) == ("punch_blocked", "member_id")
    assert "合同红色预警" in body["message"]
    assert not await SupplementRequest.filter(member_id=red.id).exists()
    await _contract(world, red)  # the contract uploaded: the same request is filed
    r = await _file(client, redis, world, red)
    assert r.status_code == 201, r.text


async def test_final_approval_refused_once_the_member_is_red(client, redis) -> None:
    world, _, people = await _chain_world(with_supervisor=False)
    worker = await make_member(world, entry_date=LONG_AGO)
    contract = await _contract(world, worker)
    r = await _file(client, redis, world, worker)
    assert r.status_code == 201, r.text
    req_id = r.json()["id"]
    assert (await _decide(client, redis, world, people["lo"], req_id)).status_code == 200
    contract.deleted_at = dt.datetime.now(dt.UTC)  # 删除重签: deleted before the last approval
    await contract.save()
    r = await _decide(client, redis, world, people["pm"], req_id)
    assert r.status_code == 409 and r.json()["code"] == "punch_blocked", r.text
    assert "合同红色预警" in r.json()["message"]
    assert (await SupplementRequest.get(id=req_id)).state == "pending"
    assert not await Punch.filter(member_id=worker.id).exists()
    await _contract(world, worker)  # re-signed: now the approval goes through
    r = await _decide(client, redis, world, people["pm"], req_id)
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    assert await Punch.filter(member_id=worker.id).count() == 2
