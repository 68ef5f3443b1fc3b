"""Which posts a person holds (``services.held_posts``), and the places that ask it agreeing:
personal sign-in, project access, the project switcher, the mini-program's project list and the
supplementary-attendance approval chain."""

from __future__ import annotations

import datetime as dt

from models import AccountKind, Post, UnitRole, WorkStatus
from services import identity, personal, signin, supplement
from services.held_posts import HeldPost, held_posts
from tests.factories import (
    make_member,
    make_person,
    make_post_holder,
    make_project,
    name_on_permit,
)


async def test_posts_held_now_and_every_caller_agrees(database: None) -> None:
    person, _, _ = await make_person()
    added, left, worker, permit, ended = [await make_project() for _ in range(5)]
    await make_post_holder(added, Post.LABOUR_OFFICER, person=person)
    await make_post_holder(left, Post.PROJECT_MANAGER, person=person, work_status=WorkStatus.LEFT)
    await make_member(worker, person=person)  # labour: no post
    await name_on_permit(permit, person, Post.PROJECT_MANAGER)
    await name_on_permit(
        ended, person, Post.CHIEF_SUPERVISOR, ended_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    gc = UnitRole.GENERAL_CONTRACTOR.value

    held = await held_posts(person.id)
    assert held == [
        HeldPost(added.project.id, Post.LABOUR_OFFICER, False, added.gc.id, gc),
        HeldPost(permit.project.id, Post.PROJECT_MANAGER, True, None, gc),
    ]
    assert await held_posts(person.id, permit.project.id) == held[1:]
    assert await held_posts(person.id, left.project.id) == []

    codes = {p["code"] for p in await signin.post_personnel_projects(person.id)}
    assert codes == {added.project.code, permit.project.code}

    principal = identity.Principal(kind=AccountKind.PERSON, account_id=0, person_id=person.id)
    access = await identity.compute_access(principal, added.project)
    assert access.posts == {Post.LABOUR_OFFICER} and access.unit_ids == {added.gc.id}
    access = await identity.compute_access(principal, permit.project)
    assert access.posts == {Post.PROJECT_MANAGER} and access.can("manage")
    access = await identity.compute_access(principal, ended.project)
    assert access.posts == set() and not access.caps
    switcher = {p.code for p in await identity.accessible_projects(principal)}
    assert {added.project.code, permit.project.code} <= switcher
    assert ended.project.code not in switcher and left.project.code not in switcher

    assert await supplement.nodes_of(principal, added.project.id) == {supplement.LABOUR_OFFICER}
    assert await supplement.nodes_of(principal, permit.project.id) == {supplement.PROJECT_MANAGER}
    assert await supplement.nodes_of(principal, ended.project.id) == set()

    mine = {r["project_code"]: r["permit_posts"] for r in await personal.my_projects(principal)}
    assert [p["code"] for p in mine[permit.project.code]] == [Post.PROJECT_MANAGER]
    assert ended.project.code not in mine and mine[added.project.code] == []


async def test_a_supervisors_post_fills_the_chief_node(database: None) -> None:
    """An added deputy chief supervisor of the supervision unit fills the third node; the same
    post in the general contractor's unit fills none."""
    world = await make_project()
    person, _, _ = await make_person()
    await make_post_holder(
        world, Post.DEPUTY_CHIEF_SUPERVISOR, person=person, unit=world.supervisor
    )
    other, _, _ = await make_person()
    await make_post_holder(world, Post.DEPUTY_CHIEF_SUPERVISOR, person=other)
    p1 = identity.Principal(kind=AccountKind.PERSON, account_id=0, person_id=person.id)
    p2 = identity.Principal(kind=AccountKind.PERSON, account_id=0, person_id=other.id)
    assert await supplement.nodes_of(p1, world.project.id) == {supplement.CHIEF_SUPERVISOR}
    assert await supplement.nodes_of(p2, world.project.id) == set()
