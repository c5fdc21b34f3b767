"""Each caller sees their own part of the tree in every report, and nothing of the rest."""

import pytest

from app.auth.principal import Role
from tests.auth import factories as users
from tests.org import factories as org
from tests.reports.conftest import days_ago, held
from tests.test_http import assert_problem

REPORTS = "/api/v1/reports"


@pytest.fixture
def two_branches(session, make_place):
    """Two districts; in the first, a unit with two branches, members short of hours, a
    retired member in each branch (dead corners), no session (weak)."""
    mine = make_place(members=2, categories=["retired"])
    neighbour = org.branch(session, mine.unit.id)
    for _ in range(3):
        org.member(session, neighbour.id, categories=["retired"])
    other = make_place(members=4, categories=["retired"])
    held(session, other.branch, other.batch_id, days_ago(40))
    return mine, neighbour, other


def _ids(client, path: str, key: str, **params) -> set:
    r = client.get(f"{REPORTS}/{path}", params=params)
    assert r.status_code == 200, r.text
    return {item[key] for item in r.json()["items"]}


def test_a_secretary_sees_only_their_branch_in_every_report(client_as, session, two_branches):
    mine, neighbour, other = two_branches
    secretary = users.user(session, Role.branch_secretary, branch_id=mine.branch.id)
    c = client_as(secretary)
    for level in ("city", "district", "unit", "branch"):
        r = c.get(f"{REPORTS}/coverage", params={"level": level})
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["rows"]) == 1, level
        assert body["rows"][0]["members"] == body["total"]["members"] == 2, level
    assert _ids(c, "gaps", "member_id") == {m.id for m in mine.members}
    assert _ids(c, "dead-corners", "branch_id") == {mine.branch.id}
    assert _ids(c, "weak-branches", "branch_id") == {mine.branch.id}
    # Their own unit's branches: only their own branch is in it, to them.
    r = c.get(f"{REPORTS}/coverage", params={"level": "branch", "parent_id": mine.unit.id})
    assert [row["id"] for row in r.json()["rows"]] == [mine.branch.id]
    for params in (
        {"level": "branch", "parent_id": other.unit.id},
        {"level": "unit", "parent_id": other.district.id},
    ):
        assert_problem(c.get(f"{REPORTS}/coverage", params=params), 404)
    assert_problem(c.get(f"{REPORTS}/gaps", params={"branch_id": neighbour.id}), 404)
    assert_problem(c.get(f"{REPORTS}/gaps", params={"unit_id": other.unit.id}), 404)


def test_a_district_admin_sees_their_district(client_as, client, session, two_branches):
    mine, neighbour, other = two_branches
    admin = users.user(session, Role.district_admin, district_id=mine.district.id)
    c = client_as(admin)
    r = c.get(f"{REPORTS}/coverage", params={"level": "district"}).json()
    assert [(row["id"], row["members"]) for row in r["rows"]] == [(mine.district.id, 5)]
    r = c.get(f"{REPORTS}/coverage", params={"level": "branch"}).json()
    assert {row["id"] for row in r["rows"]} == {mine.branch.id, neighbour.id}
    assert _ids(c, "dead-corners", "branch_id") == {mine.branch.id, neighbour.id}
    assert_problem(
        c.get(f"{REPORTS}/coverage", params={"level": "unit", "parent_id": other.district.id}),
        404,
    )
    # The city sees all of it.
    r = client.get(f"{REPORTS}/coverage", params={"level": "district"}).json()
    assert r["total"]["members"] == 9


def test_an_inspector_sees_the_units_assigned(client_as, session, two_branches):
    other = two_branches[2]
    inspector = users.user(session, Role.inspector, unit_ids=(other.unit.id,))
    c = client_as(inspector)
    r = c.get(f"{REPORTS}/coverage", params={"level": "unit"}).json()
    assert [row["id"] for row in r["rows"]] == [other.unit.id]
    assert _ids(c, "gaps", "member_id") == {m.id for m in other.members}
