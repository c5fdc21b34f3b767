"""The department marks branches weak by hand, records the consolidation plan, follows it
to done, and takes a mistaken mark away; every change is audited."""

from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.clock import today
from app.reports.models import WeakBranchMark
from tests.auth import factories as users
from tests.org import factories as org
from tests.reports.conftest import days_ago, held, studied
from tests.test_http import assert_problem

WEAK = "/api/v1/reports/weak-branches"


def _url(branch_id: int) -> str:
    return f"/api/v1/branches/{branch_id}/weak-mark"


def _body(**over) -> dict:
    due = (today() + timedelta(days=60)).isoformat()
    return {"reason": "支部班子不团结", "plan": "调整班子，每月督导一次", "due_on": due, **over}


def _audit(session, branch_id: int) -> list[tuple]:
    session.rollback()
    rows = session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.entity == "weak_branch_mark", AuditEntry.entity_id == str(branch_id))
        .order_by(AuditEntry.id)
    )
    return [(e.action, e.before, e.after, e.district_id) for e in rows]


def _working_branch(session, make_place):
    """A branch the rule does not flag: everyone studied, a session last week."""
    p = make_place(members=2)
    for m in p.members:
        studied(session, m.id, p.batch_id, 12, days_ago(5))
    held(session, p.branch, p.batch_id, days_ago(5))
    return p


def test_mark_follow_and_unmark_a_branch(client, session, make_place):
    p = _working_branch(session, make_place)
    assert client.get(WEAK).json()["total"] == 0
    r = client.post(_url(p.branch.id), json=_body())
    assert r.status_code == 201, r.text
    mark = r.json()
    assert (mark["branch_id"], mark["status"], mark["marked_by"]) == (p.branch.id, "open", "city")
    listed = client.get(WEAK).json()["items"]
    assert [(w["branch_id"], w["reasons"], w["mark"]["plan"]) for w in listed] == [
        (p.branch.id, ["marked"], "调整班子，每月督导一次")
    ]
    # The same mark again: nothing changes, nothing is audited twice.
    assert client.post(_url(p.branch.id), json=_body()).status_code == 200
    r = client.post(_url(p.branch.id), json=_body(status="in_progress"))
    assert (r.status_code, r.json()["status"]) == (200, "in_progress")
    r = client.post(_url(p.branch.id), json=_body(status="done"))
    assert r.json()["status"] == "done"
    assert client.get(WEAK).json()["total"] == 0  # done: off the list
    assert client.delete(_url(p.branch.id)).status_code == 204
    assert session.get(WeakBranchMark, p.branch.id) is None
    assert_problem(client.delete(_url(p.branch.id)), 404)
    entries = _audit(session, p.branch.id)
    assert [e[0] for e in entries] == ["create", "update", "update", "delete"]
    assert entries[0][2]["plan"] == "调整班子，每月督导一次"
    assert (entries[1][1], entries[1][2]) == ({"status": "open"}, {"status": "in_progress"})
    assert entries[3][1]["status"] == "done"
    assert {e[3] for e in entries} == {p.district.id}


def test_a_done_mark_still_shows_on_a_branch_the_rule_flags(client, session, make_place):
    p = make_place(members=1)  # nobody studied, no session: flagged by the rule
    client.post(_url(p.branch.id), json=_body(status="done"))
    [row] = client.get(WEAK).json()["items"]
    assert row["reasons"] == ["low_participation", "no_recent_session"]
    assert row["mark"]["status"] == "done"


def test_a_mark_is_validated(client, session, make_place):
    p = make_place(members=0)
    r = client.post(_url(p.branch.id), json=_body(due_on=(today() - timedelta(days=1)).isoformat()))
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "due_on"]
    for bad in ({"status": "closed"}, {"plan": ""}, {"reason": None}, {"extra": 1}):
        assert_problem(client.post(_url(p.branch.id), json=_body(**bad)), 422)
    r = client.post(_url(p.branch.id), json={"reason": "班子不健全", "due_on": today().isoformat()})
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "plan"]
    assert_problem(client.post(_url(999999), json=_body()), 404)
    assert session.scalar(sa.select(sa.func.count()).select_from(WeakBranchMark)) == 0


def test_a_past_due_date_may_stay_while_the_status_moves(client, session, make_place):
    p = make_place(members=0)
    session.add(
        WeakBranchMark(branch_id=p.branch.id, reason="长期不活动", plan="整顿", due_on=days_ago(10))
    )
    session.commit()
    body = {"reason": "长期不活动", "plan": "整顿", "due_on": days_ago(10).isoformat()}
    r = client.post(_url(p.branch.id), json={**body, "status": "done"})
    assert (r.status_code, r.json()["status"]) == (200, "done")


def test_only_the_department_marks_within_its_reach(client_as, session, make_place):
    p = make_place(members=0)
    elsewhere = org.branch(session)
    district_admin = client_as(users.user(session, Role.district_admin, district_id=p.district.id))
    assert district_admin.post(_url(p.branch.id), json=_body()).status_code == 201
    assert_problem(district_admin.post(_url(elsewhere.id), json=_body()), 404)
    unit_admin = client_as(users.user(session, Role.unit_admin, unit_id=p.unit.id))
    assert_problem(unit_admin.post(_url(p.branch.id), json=_body(status="done")), 403)
    assert_problem(unit_admin.delete(_url(p.branch.id)), 403)
    secretary = client_as(users.user(session, Role.branch_secretary, branch_id=p.branch.id))
    assert_problem(secretary.delete(_url(p.branch.id)), 403)
    session.expire_all()
    assert session.get(WeakBranchMark, p.branch.id).status == "open"


def test_a_retried_mark_with_its_key_answers_the_first_answer(client, session, make_place):
    p = make_place(members=0)
    headers = {"Idempotency-Key": "mark-1"}
    first = client.post(_url(p.branch.id), json=_body(), headers=headers)
    again = client.post(_url(p.branch.id), json=_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert_problem(
        client.post(_url(p.branch.id), json=_body(plan="另一方案"), headers=headers), 422
    )
