"""Scope in the query: each role sees its part of the tree, and nothing else exists for it."""

from dataclasses import dataclass

import pytest

from app.auth.models import User
from app.auth.principal import Role
from app.org.models import Branch, District, Member, Unit
from tests.auth import factories
from tests.org import factories as org
from tests.test_http import assert_problem


@dataclass
class Side:
    district: District
    unit: Unit
    branch: Branch
    sibling_branch: Branch  # same unit, other branch
    member: Member
    sibling_member: Member


def _side(session) -> Side:
    d = org.district(session)
    u = org.unit(session, d.id)
    b, b2 = org.branch(session, u.id), org.branch(session, u.id)
    m = org.member(session, b.id, id_number=org.id_number(), phone="13812345678")
    return Side(d, u, b, b2, m, org.member(session, b2.id))


@pytest.fixture
def world(session):
    return _side(session), _side(session)


def _user(session, role: Role, side: Side) -> User:
    scope = {
        Role.district_admin: {"district_id": side.district.id},
        Role.unit_admin: {"unit_id": side.unit.id},
        Role.branch_secretary: {"branch_id": side.branch.id},
        Role.inspector: {"unit_ids": (side.unit.id,)},
    }[role]
    return factories.user(session, role, **scope)


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_branch_secretary_sees_only_their_branch(world, session, client_as):
    mine, other = world
    c = client_as(_user(session, Role.branch_secretary, mine))
    assert _ids(c.get("/api/v1/members")) == {mine.member.id}
    assert _ids(c.get("/api/v1/branches")) == {mine.branch.id}
    assert _ids(c.get("/api/v1/units")) == {mine.unit.id}
    assert _ids(c.get("/api/v1/districts")) == {mine.district.id}
    # Filters cannot widen the scope.
    assert _ids(c.get(f"/api/v1/members?branch_id={other.branch.id}")) == set()
    for path in (
        f"/api/v1/members/{other.member.id}",
        f"/api/v1/members/{mine.sibling_member.id}",
        f"/api/v1/branches/{mine.sibling_branch.id}",
        f"/api/v1/units/{other.unit.id}",
        f"/api/v1/members/{other.member.id}/transfers",
    ):
        missing = c.get(path.rsplit("/", 1)[0] + "/999999999")
        outside = c.get(path)
        # Exactly as a missing object: nothing tells that it exists.
        assert_problem(outside, 404)
        if not path.endswith("transfers"):
            assert outside.json()["title"] == missing.json()["title"]


def test_district_admin_lists_only_their_district(world, session, client_as):
    mine, other = world
    c = client_as(_user(session, Role.district_admin, mine))
    assert _ids(c.get("/api/v1/units?limit=500")) == {mine.unit.id}
    assert _ids(c.get("/api/v1/members")) == {mine.member.id, mine.sibling_member.id}
    assert _ids(c.get(f"/api/v1/units?district_id={other.district.id}")) == set()
    assert_problem(c.get(f"/api/v1/districts/{other.district.id}"), 404)


def test_unit_admin_and_inspector_see_their_units(world, session, client_as):
    mine, other = world
    for role in (Role.unit_admin, Role.inspector):
        c = client_as(_user(session, role, mine))
        assert _ids(c.get("/api/v1/branches")) == {mine.branch.id, mine.sibling_branch.id}
        assert _ids(c.get("/api/v1/members")) == {mine.member.id, mine.sibling_member.id}
        assert_problem(c.get(f"/api/v1/members/{other.member.id}"), 404)


def test_writes_outside_scope_are_404_and_parents_outside_are_422(world, session, client_as):
    mine, other = world
    c = client_as(_user(session, Role.unit_admin, mine))
    assert_problem(c.patch(f"/api/v1/members/{other.member.id}", json={"name": "改"}), 404)
    body = {"branch_id": other.branch.id, "reason": "调动"}
    assert_problem(c.post(f"/api/v1/members/{mine.member.id}/transfer", json=body), 422)
    new = {"name": "新党员", "gender": "female", "branch_id": other.branch.id}
    problem = assert_problem(c.post("/api/v1/members", json=new), 422)
    assert problem["errors"][0]["loc"] == ["body", "branch_id"]
    session.expire_all()
    assert session.get(Member, other.member.id).name != "改"


def test_a_role_without_the_right_gets_403_inside_its_scope(world, session, client_as):
    mine, _ = world
    secretary = client_as(_user(session, Role.branch_secretary, mine))
    assert_problem(secretary.patch(f"/api/v1/units/{mine.unit.id}", json={"name": "x"}), 403)
    inspector = client_as(_user(session, Role.inspector, mine))
    r = inspector.patch(f"/api/v1/members/{mine.member.id}", json={"name": "x"})
    assert_problem(r, 403)
    # A secretary looks after their own members.
    r = secretary.patch(f"/api/v1/members/{mine.member.id}", json={"phone": "13900001111"})
    assert r.status_code == 200, r.text


def test_personal_data_is_masked_for_everyone_but_city_admins(world, session, client, client_as):
    mine, _ = world
    raw = mine.member.id_number
    path = f"/api/v1/members/{mine.member.id}"
    city = client.get(path).json()
    assert (city["id_number"], city["phone"]) == (raw, "13812345678")
    for role in (Role.district_admin, Role.unit_admin, Role.branch_secretary, Role.inspector):
        c = client_as(_user(session, role, mine))
        seen = c.get(path).json()
        assert seen["id_number"] == raw[:3] + "*" * 11 + raw[-4:]
        assert seen["phone"] == "138****5678"
        listed = next(
            m for m in c.get("/api/v1/members").json()["items"] if m["id"] == mine.member.id
        )
        assert listed["id_number"] == seen["id_number"] and listed["phone"] == seen["phone"]


def test_a_move_from_another_district_hides_that_branch_and_is_audited_in_both(
    world, session, client, client_as
):
    mine, other = world
    r = client.post(
        f"/api/v1/members/{other.member.id}/transfer",
        json={"branch_id": mine.branch.id, "reason": "跨区调动"},
    )
    assert r.status_code == 201, r.text
    admin_a = client_as(_user(session, Role.district_admin, mine))
    admin_b = client_as(_user(session, Role.district_admin, other))
    moves = admin_a.get(f"/api/v1/members/{other.member.id}/transfers").json()["items"]
    assert [(m["from_branch_id"], m["to_branch_id"]) for m in moves] == [(None, mine.branch.id)]
    city_view = client.get(f"/api/v1/members/{other.member.id}/transfers").json()["items"]
    assert city_view[0]["from_branch_id"] == other.branch.id
    for admin in (admin_a, admin_b):
        entries = admin.get("/api/v1/audit?action=transfer").json()["items"]
        assert [e["entity_id"] for e in entries] == [str(other.member.id)]
