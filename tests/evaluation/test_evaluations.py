"""Democratic evaluation (民主评议): a branch's set, its rules, the items it opens."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.campaign.models import BatchPhase, MemberExemption
from app.clock import today
from app.evaluation.models import Evaluation
from app.rectification.models import RectificationItem
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.rectification import factories as rectification
from tests.test_http import assert_problem


def put(c, branch_id, batch_id, records):
    return c.put(
        f"/api/v1/branches/{branch_id}/evaluations",
        json={"batch_id": batch_id, "records": records},
    )


def count(session, model, *where) -> int:
    session.commit()  # end the read, so the next one sees what the API wrote
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_a_set_is_written_read_back_and_the_same_set_twice_changes_nothing(
    client, session, in_evaluation
):
    b, _u, br, members = in_evaluation
    records = [
        {"member_id": members[0].id, "rating": "excellent", "comment": "带头学习"},
        {"member_id": members[1].id, "rating": "qualified"},
        {"member_id": members[2].id, "rating": "qualified"},
    ]
    r = put(client, br.id, b.id, records)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["changed"], body["records"], body["excellent"], body["qualified"]) == (
        True, 3, 1, 2,
    )  # fmt: skip
    assert body["rectifications_opened"] == []
    audits = count(session, AuditEntry, AuditEntry.action == "evaluation")
    stamps = dict(session.execute(sa.select(Evaluation.member_id, Evaluation.evaluated_at)).all())

    again = put(client, br.id, b.id, records)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert count(session, AuditEntry, AuditEntry.action == "evaluation") == audits == 1
    assert (
        dict(session.execute(sa.select(Evaluation.member_id, Evaluation.evaluated_at)).all())
        == stamps
    )

    view = client.get(f"/api/v1/branches/{br.id}/evaluations").json()
    assert (view["batch_id"], view["members"], view["evaluated"], view["unit_state"]) == (
        b.id, 5, 3, "evaluation",
    )  # fmt: skip
    assert [(x["member_id"], x["rating"], x["comment"]) for x in view["records"]] == [
        (members[0].id, "excellent", "带头学习"),
        (members[1].id, "qualified", None),
        (members[2].id, "qualified", None),
    ]
    assert [p["member_id"] for p in view["not_evaluated"]] == [members[3].id, members[4].id]
    other = client.get(f"/api/v1/branches/{br.id}/evaluations", params={"batch_id": 10**6})
    assert_problem(other, 404)


def test_members_left_out_lose_their_evaluation_and_the_audit_names_who_changed(
    client, session, in_evaluation
):
    b, _u, br, members = in_evaluation
    put(client, br.id, b.id, [{"member_id": m.id, "rating": "qualified"} for m in members[:3]])
    r = put(
        client,
        br.id,
        b.id,
        [
            {"member_id": members[0].id, "rating": "qualified"},
            {"member_id": members[1].id, "rating": "excellent"},
            {"member_id": members[3].id, "rating": "qualified"},
        ],
    )
    assert r.json()["changed"] is True
    session.commit()
    assert dict(session.execute(sa.select(Evaluation.member_id, Evaluation.rating)).all()) == {
        members[0].id: "qualified",
        members[1].id: "excellent",
        members[3].id: "qualified",
    }
    entry = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "evaluation").order_by(AuditEntry.id)
    ).all()[-1]
    # Only the members whose record changed (and the batch): the unchanged first member is
    # not in it.
    changed = {str(members[1].id), str(members[2].id), str(members[3].id)}
    assert set(entry.after) == {"batch_id", *changed}
    assert entry.after[str(members[2].id)] is None
    assert entry.before[str(members[1].id)] == {
        "rating": "qualified", "measure": None, "comment": None,
    }  # fmt: skip
    assert (entry.entity, entry.entity_id) == ("branch", str(br.id))

    put(client, br.id, b.id, [])
    assert count(session, Evaluation) == 0


def test_the_audit_entry_names_the_batch(client, session, in_evaluation):
    b, _u, br, members = in_evaluation
    put(client, br.id, b.id, [{"member_id": members[0].id, "rating": "excellent"}])
    put(client, br.id, b.id, [{"member_id": members[0].id, "rating": "qualified"}])
    session.commit()
    entries = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "evaluation").order_by(AuditEntry.id)
    ).all()
    # The batch does not change between before and after, yet without it the log cannot say
    # which batch's evaluations changed.
    assert [(e.before["batch_id"], e.after["batch_id"]) for e in entries] == [(b.id, b.id)] * 2
    assert entries[1].after[str(members[0].id)]["rating"] == "qualified"


def test_a_rating_below_qualified_opens_one_rectification_item_however_often_it_is_written(
    client, session, in_evaluation
):
    b, u, br, members = in_evaluation
    m = members[0]
    bad = {"member_id": m.id, "rating": "unqualified", "measure": "deadline_correction"}
    r = put(client, br.id, b.id, [{**bad, "comment": "长期不参加组织生活"}])
    assert r.status_code == 200, r.text
    opened = r.json()["rectifications_opened"]
    assert len(opened) == 1
    session.commit()
    item = session.get(RectificationItem, opened[0])
    rectification_ends = session.get(BatchPhase, (b.id, "rectification")).ends_on
    assert (item.unit_id, item.branch_id, item.member_id, item.source, item.status) == (
        u.id, br.id, m.id, "evaluation", "open",
    )  # fmt: skip
    assert item.source_ref == f"evaluation:{b.id}:{m.id}"
    assert "不合格" in item.problem and "长期不参加组织生活" in item.problem
    assert (item.measures, item.owner, item.deadline) == ("限期改正", "李书记", rectification_ends)

    # A new comment, a milder rating, qualified, and unqualified again: never a second item.
    for record in (
        {**bad, "comment": "经教育有所转变"},
        {"member_id": m.id, "rating": "basically_qualified", "measure": "counselling"},
        {"member_id": m.id, "rating": "qualified"},
        bad,
    ):
        again = put(client, br.id, b.id, [record])
        assert again.status_code == 200 and again.json()["rectifications_opened"] == []
    assert count(session, RectificationItem) == 1

    # Raised to qualified, the item stays open and the branch's view still points to it.
    put(client, br.id, b.id, [{"member_id": m.id, "rating": "qualified"}])
    view = client.get(f"/api/v1/branches/{br.id}/evaluations").json()
    assert view["records"][0]["rectification_id"] is None  # shown only beside a low rating
    session.refresh(item)
    assert item.status == "open"
    put(client, br.id, b.id, [bad])
    view = client.get(f"/api/v1/branches/{br.id}/evaluations").json()
    assert view["records"][0]["rectification_id"] == item.id


def test_another_units_item_with_the_same_reference_does_not_stop_the_members_own(
    client, session, in_evaluation
):
    b, u, br, members = in_evaluation
    m = members[0]
    # Made before such references were refused, or by hand in the database.
    elsewhere = rectification.item(
        session, org.unit(session).id, source="evaluation", source_ref=f"evaluation:{b.id}:{m.id}"
    )
    r = put(
        client,
        br.id,
        b.id,
        [{"member_id": m.id, "rating": "unqualified", "measure": "counselling"}],
    )
    assert r.status_code == 200, r.text
    (opened,) = r.json()["rectifications_opened"]
    session.commit()
    # The member's item lies in their own unit, where its completion gate sees it.
    assert session.get(RectificationItem, opened).unit_id == u.id
    view = client.get(f"/api/v1/branches/{br.id}/evaluations").json()
    assert view["records"][0]["rectification_id"] == opened != elsewhere.id


def test_the_branchs_view_names_no_item_outside_the_callers_scope(
    client, client_as, session, in_evaluation
):
    b, u, br, members = in_evaluation
    low = {"rating": "unqualified", "measure": "counselling"}
    r = put(client, br.id, b.id, [{"member_id": m.id, **low} for m in members[:2]])
    item_ids = r.json()["rectifications_opened"]
    assert len(item_ids) == 2
    # One member moves to another unit, the other to another branch of the same unit: their
    # items stay where they were opened.
    u2 = org.unit(session)
    elsewhere, sibling = org.branch(session, u2.id), org.branch(session, u.id)
    campaign.enrol(session, u2.id, b.id, "evaluation")
    for m, to in zip(members[:2], (elsewhere, sibling), strict=True):
        r = client.post(
            f"/api/v1/members/{m.id}/transfer", json={"branch_id": to.id, "reason": "调动"}
        )
        assert r.status_code == 201, r.text
    for c, branch in (
        (client_as(users.user(session, Role.unit_admin, unit_id=u2.id)), elsewhere),
        (client_as(users.user(session, Role.branch_secretary, branch_id=sibling.id)), sibling),
    ):
        for item_id in item_ids:
            assert_problem(c.get(f"/api/v1/rectifications/{item_id}"), 404)
        (record,) = c.get(f"/api/v1/branches/{branch.id}/evaluations").json()["records"]
        assert record["rectification_id"] is None, record
    # The unit's admin sees the item of the member who moved within the unit.
    view = client.get(f"/api/v1/branches/{sibling.id}/evaluations").json()
    assert view["records"][0]["rectification_id"] == item_ids[1]


def test_an_item_deadline_falls_back_to_a_month_once_the_rectification_window_is_over(
    client, session
):
    b = campaign.batch(session, start=today() - timedelta(days=120))
    u = org.unit(session)
    br = org.branch(session, u.id, name="第一支部")
    m = org.member(session, br.id)
    campaign.enrol(session, u.id, b.id, "rectification")
    r = put(
        client,
        br.id,
        b.id,
        [{"member_id": m.id, "rating": "basically_qualified", "measure": "counselling"}],
    )
    assert r.status_code == 200, r.text
    session.commit()
    item = session.get(RectificationItem, r.json()["rectifications_opened"][0])
    assert (item.deadline, item.owner, item.phase) == (
        today() + timedelta(days=30), "第一支部", "rectification",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"rating": "unqualified"}, "measure", "required"),
        ({"rating": "basically_qualified"}, "measure", "required"),
        ({"rating": "qualified", "measure": "counselling"}, "measure", "only"),
        ({"rating": "excellent", "measure": "removal"}, "measure", "only"),
        (
            {"rating": "basically_qualified", "measure": "removal"},
            "measure",
            "only for unqualified",
        ),
        (
            {"rating": "basically_qualified", "measure": "persuade_to_withdraw"},
            "measure",
            "only for unqualified",
        ),
    ],
)
def test_a_measure_goes_with_a_low_rating_only(
    client, session, in_evaluation, record, field, words
):
    b, _u, br, members = in_evaluation
    records = [
        {"member_id": members[0].id, "rating": "unqualified", "measure": "deadline_correction"},
        {"member_id": members[1].id, **record},
    ]
    problem = assert_problem(put(client, br.id, b.id, records), 422)
    assert problem["errors"][0]["loc"] == ["body", "records", 1, field]
    assert words in problem["errors"][0]["msg"]
    assert count(session, Evaluation) == count(session, RectificationItem) == 0


def test_records_outside_the_branch_are_refused_by_index_writing_nothing(
    client, session, in_evaluation
):
    b, u, br, members = in_evaluation
    same_unit = org.member(session, org.branch(session, u.id).id)
    elsewhere = org.member(session)
    gone = org.member(session, br.id, status="transferred_out")
    first = {"member_id": members[0].id, "rating": "unqualified", "measure": "removal"}
    for stranger in (same_unit.id, elsewhere.id, gone.id, 10**9):
        records = [first, {"member_id": stranger, "rating": "qualified"}]
        problem = assert_problem(put(client, br.id, b.id, records), 422)
        assert problem["errors"][0]["loc"] == ["body", "records", 1, "member_id"]
        assert f"member {stranger} is not an active member of this branch" in problem["detail"]
    twice = [first, {**first, "rating": "qualified", "measure": None}]
    problem = assert_problem(put(client, br.id, b.id, twice), 422)
    assert problem["errors"][0]["loc"] == ["body", "records", 1, "member_id"]
    assert count(session, Evaluation) == count(session, RectificationItem) == 0
    assert count(session, AuditEntry) == 0


def test_bad_input_of_the_set_itself(client, session, in_evaluation):
    b, _u, br, members = in_evaluation
    m = members[0].id
    for record, loc in (
        ({"member_id": m, "rating": "good"}, ["body", "records", 0, "rating"]),
        (
            {"member_id": m, "rating": "qualified", "measure": "exile"},
            ["body", "records", 0, "measure"],
        ),
        ({"member_id": 0, "rating": "qualified"}, ["body", "records", 0, "member_id"]),
        (
            {"member_id": m, "rating": "qualified", "comment": "x" * 501},
            ["body", "records", 0, "comment"],
        ),
        ({"member_id": m, "rating": "qualified", "stars": 5}, ["body", "records", 0, "stars"]),
    ):
        problem = assert_problem(put(client, br.id, b.id, [record]), 422)
        assert problem["errors"][0]["loc"] == loc
    other = campaign.batch(session, number=2)
    problem = assert_problem(put(client, br.id, other.id, []), 422)
    assert problem["errors"][0]["loc"] == ["body", "batch_id"]
    many = [{"member_id": i, "rating": "qualified"} for i in range(1, 1002)]
    assert_problem(put(client, br.id, b.id, many), 413)
    assert_problem(put(client, 10**9, b.id, []), 404)
    assert count(session, Evaluation) == 0


def test_evaluations_wait_for_the_evaluation_phase_and_an_enrolment(client, session):
    b = campaign.batch(session)
    u = org.unit(session)
    br = org.branch(session, u.id)
    m = org.member(session, br.id)
    problem = assert_problem(put(client, br.id, b.id, []), 409)
    assert problem["type"].endswith("unit-not-enrolled")
    assert_problem(client.get(f"/api/v1/branches/{br.id}/evaluations"), 409)
    campaign.enrol(session, u.id, b.id, "study")
    problem = assert_problem(
        put(client, br.id, b.id, [{"member_id": m.id, "rating": "qualified"}]), 409
    )
    assert problem["type"].endswith("evaluation-not-open") and problem["state"] == "study"
    assert count(session, Evaluation) == 0


def test_who_may_write_and_read_a_branchs_evaluations(client_as, session, in_evaluation):
    b, u, br, members = in_evaluation
    records = [{"member_id": members[0].id, "rating": "excellent"}]
    unit_admin = users.user(session, Role.unit_admin, unit_id=u.id)
    district_admin = users.user(session, Role.district_admin, district_id=u.district_id)
    secretary = users.user(session, Role.branch_secretary, branch_id=br.id)
    inspector = users.user(session, Role.inspector, unit_ids=(u.id,))
    stranger = users.user(session, Role.unit_admin, unit_id=org.unit(session).id)
    other_inspector = users.user(session, Role.inspector, unit_ids=(org.unit(session).id,))
    for who in (secretary, inspector):
        assert_problem(put(client_as(who), br.id, b.id, records), 403)
        assert client_as(who).get(f"/api/v1/branches/{br.id}/evaluations").status_code == 200
    for who in (stranger, other_inspector):
        assert_problem(put(client_as(who), br.id, b.id, records), 404)
        assert_problem(client_as(who).get(f"/api/v1/branches/{br.id}/evaluations"), 404)
    assert count(session, Evaluation) == 0
    for who in (unit_admin, district_admin):
        r = put(client_as(who), br.id, b.id, records)
        assert r.status_code == 200, r.text
    session.commit()
    assert session.get(Evaluation, (b.id, members[0].id)).evaluated_by == unit_admin.id


def test_a_moved_member_keeps_one_evaluation_written_by_their_branch_now(
    client, session, in_evaluation
):
    b, u, br, members = in_evaluation
    m = members[0]
    put(client, br.id, b.id, [{"member_id": m.id, "rating": "excellent"}])
    other = org.branch(session, u.id)
    r = client.post(
        f"/api/v1/members/{m.id}/transfer", json={"branch_id": other.id, "reason": "调整支部"}
    )
    assert r.status_code == 201, r.text
    # The old branch's set no longer covers them: writing it leaves their evaluation alone.
    assert put(client, br.id, b.id, []).json()["changed"] is False
    moved = client.get(f"/api/v1/branches/{other.id}/evaluations").json()
    assert [x["rating"] for x in moved["records"]] == ["excellent"]
    r = put(client, other.id, b.id, [{"member_id": m.id, "rating": "qualified"}])
    assert r.status_code == 200 and r.json()["changed"] is True
    assert count(session, Evaluation) == 1


def test_exempted_members_are_shown_apart_among_those_not_evaluated(client, session, in_evaluation):
    b, _u, br, members = in_evaluation
    session.add(
        MemberExemption(member_id=members[4].id, batch_id=b.id, phase="evaluation", reason="abroad")
    )
    session.commit()
    view = client.get(f"/api/v1/branches/{br.id}/evaluations").json()
    assert [(p["member_id"], p["exempted"]) for p in view["not_evaluated"]][-2:] == [
        (members[3].id, False),
        (members[4].id, True),
    ]


def test_concurrent_writers_of_one_set_open_one_item(
    app, engine, session, in_evaluation, city_admin
):
    b, _u, br, members = in_evaluation
    headers = users.bearer(engine, city_admin)
    records = [
        {"member_id": m.id, "rating": "unqualified", "measure": "counselling"} for m in members
    ]

    def write(_):
        with TestClient(app, headers=headers) as c:
            return put(c, br.id, b.id, records).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(write, range(4)))
    assert statuses == [200] * 4
    assert count(session, RectificationItem) == 5
    assert count(session, AuditEntry, AuditEntry.action == "evaluation") == 1


def test_ratings_and_measures_have_chinese_labels(client):
    labels = client.get("/api/v1/meta/labels").json()
    assert {x["code"]: x["label"] for x in labels["evaluation_rating"]} == {
        "excellent": "优秀",
        "qualified": "合格",
        "basically_qualified": "基本合格",
        "unqualified": "不合格",
    }
    measures = {x["code"]: x["label"] for x in labels["evaluation_measure"]}
    assert measures["deadline_correction"] == "限期改正" and measures["counselling"] == "谈心谈话"
    assert len(measures) == 5
