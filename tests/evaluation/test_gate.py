"""The evaluation gate: a unit leaves evaluation only with every active member evaluated."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.campaign.models import MemberExemption, PhaseMove, UnitProgress
from app.evaluation import gate
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.evaluation import factories
from tests.org import factories as org
from tests.test_http import assert_problem

REASON = "部分党员外出务工，经县委组织部同意先行转段，返乡后补评"


def advance(c, unit_id, **body):
    return c.post(f"/api/v1/units/{unit_id}/advance", json={"to": "rectification", **body})


def state(session, unit_id) -> str:
    session.commit()
    return session.get(UnitProgress, unit_id).state


def test_a_unit_with_members_not_evaluated_is_refused_with_them_then_passes(
    client, session, in_evaluation
):
    b, u, br, members = in_evaluation
    second = org.branch(session, u.id)
    elsewhere = org.member(session, second.id)
    for m in members[:4]:
        factories.evaluate(session, m.id, b.id)
    problem = assert_problem(advance(client, u.id), 409)
    assert problem["type"].endswith("evaluation-incomplete")
    assert problem["not_evaluated"] == 2
    assert {x["member_id"] for x in problem["members"]} == {members[4].id, elsewhere.id}
    assert {x["branch_id"] for x in problem["members"]} == {br.id, second.id}
    assert state(session, u.id) == "evaluation"
    assert session.scalar(sa.select(sa.func.count()).select_from(PhaseMove)) == 0

    r = client.put(
        f"/api/v1/branches/{br.id}/evaluations",
        json={
            "batch_id": b.id,
            "records": [{"member_id": m.id, "rating": "qualified"} for m in members],
        },
    )
    assert r.status_code == 200, r.text
    session.commit()  # end the read, or SQLite's snapshot goes stale
    factories.evaluate(session, elsewhere.id, b.id, "excellent")
    r = advance(client, u.id)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rectification"
    assert r.json()["history"][-1]["override_reason"] is None


def test_exempted_and_inactive_members_are_not_asked_for(client, session, in_evaluation):
    b, u, _br, members = in_evaluation
    for m in members[:3]:
        factories.evaluate(session, m.id, b.id)
    session.add(
        MemberExemption(member_id=members[3].id, batch_id=b.id, phase="evaluation", reason="abroad")
    )
    # Exempted from study is not exempted from evaluation.
    session.add(
        MemberExemption(member_id=members[4].id, batch_id=b.id, phase="study", reason="abroad")
    )
    session.commit()
    problem = assert_problem(advance(client, u.id), 409)
    assert [x["member_id"] for x in problem["members"]] == [members[4].id]
    client.patch(f"/api/v1/members/{members[4].id}", json={"status": "deceased"})
    assert advance(client, u.id).status_code == 200


def test_an_evaluation_of_another_batch_does_not_count(client, session, in_evaluation):
    _b, u, _br, members = in_evaluation
    other = campaign.batch(session, number=2)
    for m in members:
        factories.evaluate(session, m.id, other.id)
    assert assert_problem(advance(client, u.id), 409)["not_evaluated"] == 5


def test_a_district_admin_may_override_with_a_reason_a_unit_admin_may_not(
    client_as, session, in_evaluation
):
    _b, u, _br, _members = in_evaluation
    unit_admin = client_as(users.user(session, Role.unit_admin, unit_id=u.id))
    district_admin = client_as(users.user(session, Role.district_admin, district_id=u.district_id))
    assert_problem(advance(unit_admin, u.id), 409)
    assert_problem(advance(unit_admin, u.id, override_reason=REASON), 403)
    assert_problem(advance(district_admin, u.id), 409)
    assert state(session, u.id) == "evaluation"
    r = advance(district_admin, u.id, override_reason=REASON)
    assert r.status_code == 200, r.text
    assert r.json()["history"][-1]["override_reason"] == REASON
    session.commit()
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "override"))
    assert entry.after == {"state": "rectification", "override_reason": REASON}
    assert entry.entity_id == str(u.id)


def test_a_reason_given_when_the_gate_passes_is_no_override(client, session, in_evaluation):
    b, u, _br, members = in_evaluation
    for m in members:
        factories.evaluate(session, m.id, b.id)
    r = advance(client, u.id, override_reason=REASON)
    assert r.status_code == 200 and r.json()["history"][-1]["override_reason"] is None
    assert session.scalar(sa.select(AuditEntry.action)) == "advance"


def test_the_409_lists_the_first_members_and_counts_all(client, session, monkeypatch):
    monkeypatch.setattr(gate, "LISTED", 3)
    b = campaign.batch(session)
    u = org.unit(session)
    br = org.branch(session, u.id)
    members = [org.member(session, br.id) for _ in range(7)]
    campaign.enrol(session, u.id, b.id, "evaluation")
    problem = assert_problem(advance(client, u.id), 409)
    assert problem["not_evaluated"] == 7
    assert [x["member_id"] for x in problem["members"]] == [m.id for m in members[:3]]


def test_bulk_advance_refuses_units_not_evaluated_and_moves_the_rest(client, session):
    b = campaign.batch(session)
    d = org.district(session)
    done, pending = org.unit(session, d.id), org.unit(session, d.id)
    for unit in (done, pending):
        m = org.member(session, org.branch(session, unit.id).id)
        campaign.enrol(session, unit.id, b.id, "evaluation")
        if unit is done:
            factories.evaluate(session, m.id, b.id, "excellent")
    r = client.post(
        f"/api/v1/batches/{b.id}/advance", json={"district_id": d.id, "to": "rectification"}
    )
    assert r.status_code == 200, r.text
    results = {x["unit_id"]: x for x in r.json()}
    assert results[done.id]["status"] == "advanced"
    assert results[pending.id]["status"] == "refused"
    assert "not yet evaluated" in results[pending.id]["detail"]
    assert (state(session, done.id), state(session, pending.id)) == ("rectification", "evaluation")
