"""Rectification items: opening, editing, and every step of the machine with its rights."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.audit.models import AuditEntry
from app.clock import today
from app.rectification.models import RectificationItem, RectificationStep
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.rectification import factories
from tests.test_http import assert_problem


def _body(unit_id, **over):
    return {
        "unit_id": unit_id,
        "source": "public_feedback",
        "source_ref": "来信2026-017",
        "problem": "群众反映党员学习走过场",
        "measures": "重新组织专题学习并公开整改情况",
        "owner": "单位党委书记",
        "deadline": (today() + timedelta(days=20)).isoformat(),
        **over,
    }


def _step(c, item_id, to, note="整改证据"):
    return c.post(f"/api/v1/rectifications/{item_id}/transitions", json={"to": to, "note": note})


def _count(session, model):
    session.commit()  # end the read, so the next count sees the API's writes
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_unit_admin_opens_an_item_and_a_retry_with_the_key_opens_nothing_more(session, world):
    headers = {"Idempotency-Key": "open-1"}
    r = world.unit_admin.post("/api/v1/rectifications", json=_body(world.unit.id), headers=headers)
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["status"], item["phase"], item["overdue"], item["branch_id"]) == (
        "open",
        "rectification",
        False,
        None,
    )
    assert [(s["from_status"], s["to_status"]) for s in item["steps"]] == [(None, "open")]
    again = world.unit_admin.post(
        "/api/v1/rectifications", json=_body(world.unit.id), headers=headers
    )
    assert again.status_code == 201 and again.json()["id"] == item["id"]
    assert _count(session, RectificationItem) == 1
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.entity == "rectification"))
    assert (entry.action, entry.entity_id, entry.district_id) == (
        "create",
        str(item["id"]),
        world.unit.district_id,
    )
    assert entry.after["source"] == "public_feedback"


def test_the_whole_way_open_to_verified_with_a_note_at_each_step(session, world):
    item = world.unit_admin.post("/api/v1/rectifications", json=_body(world.unit.id)).json()
    for to, note in (("in_progress", "已制定方案"), ("done", "已补课三次，附签到表")):
        r = _step(world.unit_admin, item["id"], to, note)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == to
    r = _step(world.inspector, item["id"], "verified", "督导组现场核查属实")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "verified"
    assert [(s["from_status"], s["to_status"], s["note"]) for s in body["steps"]] == [
        (None, "open", None),
        ("open", "in_progress", "已制定方案"),
        ("in_progress", "done", "已补课三次，附签到表"),
        ("done", "verified", "督导组现场核查属实"),
    ]
    transitions = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "transition").order_by(AuditEntry.id)
    ).all()
    assert [(e.before["status"], e.after["status"]) for e in transitions] == [
        ("open", "in_progress"),
        ("in_progress", "done"),
        ("done", "verified"),
    ]


@pytest.mark.parametrize("who", ["unit_admin", "secretary"])
def test_the_unit_itself_may_not_verify_and_nothing_is_written(session, world, who):
    item = factories.item(session, world.unit.id, branch_id=world.branch.id, status="done")
    steps = _count(session, RectificationStep)
    problem = assert_problem(_step(getattr(world, who), item.id, "verified"), 403)
    assert "verify" in problem["detail"]
    session.refresh(item)
    assert item.status == "done"
    assert _count(session, RectificationStep) == steps
    assert session.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "transition")) is None


@pytest.mark.parametrize("who", ["district_admin", "inspector"])
def test_district_admins_and_assigned_inspectors_verify(session, world, who, client):
    item = factories.item(session, world.unit.id, status="done")
    assert _step(getattr(world, who), item.id, "verified").json()["status"] == "verified"
    other = factories.item(session, world.unit.id, status="done")
    assert _step(client, other.id, "verified").json()["status"] == "verified"  # city admin


def test_an_inspector_of_another_unit_does_not_see_the_item(session, world):
    item = factories.item(session, world.unit.id, status="done")
    assert_problem(_step(world.stranger_inspector, item.id, "verified"), 404)
    assert_problem(_step(world.other_district_admin, item.id, "verified"), 404)
    session.refresh(item)
    assert item.status == "done"


@pytest.mark.parametrize(
    ("status", "to"),
    [
        ("open", "verified"),
        ("open", "done"),
        ("open", "open"),
        ("in_progress", "verified"),
        ("in_progress", "open"),
        ("done", "open"),
        ("verified", "in_progress"),
        ("verified", "done"),
    ],
)
def test_no_jumps_and_no_way_back_except_a_verifier_sending_done_back(
    session, client, world, status, to
):
    item = factories.item(session, world.unit.id, status=status)
    steps = _count(session, RectificationStep)
    problem = assert_problem(_step(client, item.id, to), 409)
    assert problem["type"].endswith("rectification-wrong-step")
    assert problem["item_status"] == status and to not in problem["allowed"]
    session.refresh(item)
    assert item.status == status
    assert _count(session, RectificationStep) == steps


def test_a_verifier_sends_a_done_item_back_the_unit_may_not(session, world):
    item = factories.item(session, world.unit.id, status="done")
    assert_problem(_step(world.unit_admin, item.id, "in_progress"), 403)
    r = _step(world.inspector, item.id, "in_progress", "整改材料不全，退回补充")
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert _step(world.unit_admin, item.id, "done").json()["status"] == "done"


def test_workers_of_an_item_the_secretary_and_inspector_do_not_work_on_it(session, world):
    item = factories.item(session, world.unit.id, branch_id=world.branch.id)
    assert_problem(_step(world.secretary, item.id, "in_progress"), 403)
    assert_problem(_step(world.inspector, item.id, "in_progress"), 403)
    assert _step(world.district_admin, item.id, "in_progress").status_code == 200


def test_a_note_is_required_at_each_step(session, world):
    item = factories.item(session, world.unit.id)
    problem = assert_problem(_step(world.unit_admin, item.id, "in_progress", note=""), 422)
    assert problem["errors"][0]["loc"] == ["body", "note"]
    assert_problem(_step(world.unit_admin, item.id, "started"), 422)  # not a status


def test_a_deadline_before_the_item_is_opened_is_refused_and_nothing_written(session, world):
    yesterday = (today() - timedelta(days=1)).isoformat()
    problem = assert_problem(
        world.unit_admin.post(
            "/api/v1/rectifications", json=_body(world.unit.id, deadline=yesterday)
        ),
        422,
    )
    assert problem["errors"][0]["loc"] == ["body", "deadline"]
    assert _count(session, RectificationItem) == 0
    assert _count(session, AuditEntry) == 0
    # Today is fine; on an edit the bound is the day it was opened, not today.
    item = factories.item(session, world.unit.id)
    item.created_at = item.created_at - timedelta(days=5)
    session.commit()
    r = world.unit_admin.patch(f"/api/v1/rectifications/{item.id}", json={"deadline": yesterday})
    assert r.status_code == 200 and r.json()["deadline"] == yesterday
    long_ago = (today() - timedelta(days=10)).isoformat()
    r = world.unit_admin.patch(f"/api/v1/rectifications/{item.id}", json={"deadline": long_ago})
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "deadline"]
    session.refresh(item)
    assert item.deadline.isoformat() == yesterday


def test_edits_are_audited_and_a_verified_item_no_longer_changes(session, world):
    item = factories.item(session, world.unit.id)
    r = world.unit_admin.patch(
        f"/api/v1/rectifications/{item.id}",
        json={"owner": "党委副书记", "branch_id": world.branch2.id},
    )
    assert (r.json()["owner"], r.json()["branch_id"]) == ("党委副书记", world.branch2.id)
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.after == {"owner": "党委副书记", "branch_id": world.branch2.id}
    assert_problem(
        world.unit_admin.patch(
            f"/api/v1/rectifications/{item.id}", json={"branch_id": org.branch(session).id}
        ),
        422,
    )
    assert_problem(
        world.unit_admin.patch(f"/api/v1/rectifications/{item.id}", json={"owner": None}), 422
    )
    closed = factories.item(session, world.unit.id, status="verified")
    assert_problem(
        world.district_admin.patch(f"/api/v1/rectifications/{closed.id}", json={"owner": "x"}),
        409,
    )


def test_references_must_lie_in_the_unit_and_the_callers_scope(session, world, client):
    stranger = org.member(session, org.branch(session, world.other_unit.id).id)
    cases = [
        (world.unit_admin, _body(world.other_unit.id), "unit_id"),
        (client, _body(world.unit.id, member_id=stranger.id), "member_id"),
        (client, _body(world.unit.id, branch_id=org.branch(session).id), "branch_id"),
        (
            client,
            _body(world.unit.id, member_id=world.member.id, branch_id=world.branch2.id),
            "member_id",
        ),
        (client, _body(world.unit.id, source="rumour"), "source"),
    ]
    for c, body, field in cases:
        problem = assert_problem(c.post("/api/v1/rectifications", json=body), 422)
        assert problem["errors"][0]["loc"][-1] == field, problem
    assert _count(session, RectificationItem) == 0
    # A member's item takes the member's branch.
    r = client.post("/api/v1/rectifications", json=_body(world.unit.id, member_id=world.member.id))
    assert (r.status_code, r.json()["branch_id"]) == (201, world.branch.id)


def test_a_client_may_not_make_up_an_evaluations_reference(session, world):
    # Evaluations find their items again by it: a made-up one would pass for the member's.
    body = _body(world.unit.id, source="evaluation", source_ref="evaluation:1:2")
    problem = assert_problem(world.unit_admin.post("/api/v1/rectifications", json=body), 422)
    assert problem["errors"][0]["loc"] == ["body", "source_ref"], problem
    assert _count(session, RectificationItem) == 0
    r = world.unit_admin.post(
        "/api/v1/rectifications", json=_body(world.unit.id, source_ref="评议:1")
    )
    assert r.status_code == 201, r.text


def test_items_open_in_any_phase_and_before_enrolment(session, client):
    b = campaign.batch(session)
    for state in ("study", "evaluation", "rectification", "completed", None):
        u = org.unit(session)
        if state:
            campaign.enrol(session, u.id, b.id, state)
        r = client.post("/api/v1/rectifications", json=_body(u.id))
        assert (r.status_code, r.json()["phase"]) == (201, state)


def test_who_sees_which_items(session, world, client):
    mine = factories.item(session, world.unit.id, branch_id=world.branch.id)
    unit_level = factories.item(session, world.unit.id)
    theirs = factories.item(session, world.other_unit.id)

    def ids(c):
        r = c.get("/api/v1/rectifications")
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert ids(client) == {mine.id, unit_level.id, theirs.id}
    for c in (world.unit_admin, world.district_admin, world.inspector):
        assert ids(c) == {mine.id, unit_level.id}
    assert ids(world.secretary) == {mine.id}
    assert ids(world.secretary2) == set()
    assert ids(world.other_admin) == {theirs.id}
    assert ids(world.stranger_inspector) == {theirs.id}
    assert_problem(world.secretary.get(f"/api/v1/rectifications/{unit_level.id}"), 404)
    assert_problem(world.other_admin.get(f"/api/v1/rectifications/{mine.id}"), 404)
    assert world.secretary.get(f"/api/v1/rectifications/{mine.id}").status_code == 200


def test_filters_and_pages(session, client, world):
    late = today() - timedelta(days=3)
    a = factories.item(session, world.unit.id, branch_id=world.branch.id, deadline=late)
    b = factories.item(session, world.unit.id, status="done", deadline=late, source="inspection")
    c = factories.item(session, world.unit.id, status="in_progress", source="evaluation")
    d = factories.item(session, world.other_unit.id, deadline=late)

    def ids(**params):
        r = client.get("/api/v1/rectifications", params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert set(ids(overdue=True)) == {a.id, d.id}  # done by the unit: not overdue
    assert set(ids(unit_id=world.unit.id)) == {a.id, b.id, c.id}
    assert set(ids(district_id=world.other_unit.district_id)) == {d.id}
    assert ids(branch_id=world.branch.id) == [a.id]
    assert ids(status="done") == [b.id]
    assert ids(source="evaluation") == [c.id]
    assert ids(unit_id=world.unit.id, overdue=True) == [a.id]
    page = client.get("/api/v1/rectifications", params={"limit": 2, "offset": 2}).json()
    assert (page["total"], len(page["items"])) == (4, 2)
    listed = client.get("/api/v1/rectifications", params={"overdue": True}).json()["items"]
    assert all(i["overdue"] for i in listed)
    assert_problem(client.get("/api/v1/rectifications", params={"status": "closed"}), 422)


def test_two_verifiers_at_once_one_step_is_taken(app, engine, session, city_admin, world):
    item = factories.item(session, world.unit.id, status="done")
    headers = users.bearer(engine, city_admin)

    def verify(_):
        with TestClient(app, headers=headers) as c:
            return _step(c, item.id, "verified").status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(verify, range(2)))
    assert statuses == [200, 409]
    session.commit()
    taken = session.scalars(
        sa.select(RectificationStep.to_status).where(RectificationStep.item_id == item.id)
    ).all()
    assert taken == ["open", "in_progress", "done", "verified"]


def test_labels_in_chinese(client):
    labels = client.get("/api/v1/meta/labels").json()
    assert {x["code"]: x["label"] for x in labels["rectification_status"]} == {
        "open": "待整改",
        "in_progress": "整改中",
        "done": "已整改",
        "verified": "已验收",
    }
    assert {x["label"] for x in labels["rectification_source"]} == {
        "回头看",
        "民主评议",
        "督导检查",
        "群众反映",
        "自查自纠",
    }
    assert [x["code"] for x in labels["inspection_assessment"]] == ["good", "fair", "poor"]
    assert [x["code"] for x in labels["finding_severity"]] == ["low", "medium", "high"]
