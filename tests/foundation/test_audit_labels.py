"""The audit log names what each entry was about: a team, a unit, a person by their names."""

from __future__ import annotations

from models import AuditLog, Enterprise
from tests.factories import auth, enterprise_token, make_member, make_project


async def test_targets_are_labelled_by_their_names(client, redis):
    world = await make_project()
    member = await make_member(world)
    person = await member.person
    gc = world.enterprises["gc"]
    builder = await Enterprise.get(id=world.builder.enterprise_id)
    targets = {
        f"team:{world.team.id}": f"班组 {world.team.name}",
        f"unit:{world.builder.id}": f"参建单位 {builder.name}",
        f"member:{member.id}": f"人员 {person.name}",
        f"person:{person.id}": f"人员 {person.name}",
        "team:999999999": "班组 999999999",  # gone: its id
    }
    for target in targets:
        await AuditLog.create(action="labels.check", project_id=world.project.id, target=target)
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/audit",
        params={"action": "labels.check"},
        headers=auth(await enterprise_token(redis, gc)),
    )
    assert r.status_code == 200, r.text
    assert {e["target"]: e["target_label"] for e in r.json()["data"]} == targets
