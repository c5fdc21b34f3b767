"""The rules behind the reports' numbers, at their edges: which units a phase measures,
exemptions, the 30-day and 60% boundaries, filters and their errors."""

from app.campaign.models import MemberExemption
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.reports.conftest import days_ago, held, studied
from tests.test_http import assert_problem

COVERAGE = "/api/v1/reports/coverage"
GAPS = "/api/v1/reports/gaps"
CORNERS = "/api/v1/reports/dead-corners"
WEAK = "/api/v1/reports/weak-branches"


def _city(client, **params) -> dict:
    r = client.get(COVERAGE, params={"level": "city", **params})
    assert r.status_code == 200, r.text
    return r.json()["rows"][0]


def _units(client, **params) -> dict[int, dict]:
    r = client.get(COVERAGE, params={"level": "unit", **params})
    assert r.status_code == 200, r.text
    return {row["id"]: row for row in r.json()["rows"]}


def test_without_a_phase_each_unit_is_measured_in_its_current_one(client, session, make_place):
    studying = make_place(members=2)
    evaluating = make_place(members=3, state="evaluation")
    waiting = make_place(members=4, state="not_started")
    done = make_place(members=5, state="completed")
    # A completed unit: measured in its last phase, rectification.
    units = _units(client)
    assert set(units) == {studying.unit.id, evaluating.unit.id, done.unit.id}
    assert _city(client)["members"] == 10
    look = client.get(f"/api/v1/units/{done.unit.id}/look-back").json()
    assert (look["phase"], look["members"]) == ("rectification", units[done.unit.id]["members"])
    # A phase named: the units that have reached it, completed ones included.
    assert set(_units(client, phase="study")) == {
        studying.unit.id,
        evaluating.unit.id,
        done.unit.id,
    }
    assert set(_units(client, phase="rectification")) == {done.unit.id}
    assert waiting.unit.id not in _units(client, phase="study")


def test_required_hours_are_the_measured_phase_s(client, session, make_place):
    p = make_place(members=2, state="evaluation")
    # 10 hours are required in study, none in evaluation (the factory's requirements).
    studied(session, p.members[0].id, p.batch_id, 4, days_ago(2), phase="study")
    assert _units(client)[p.unit.id]["met_hours"] == 2  # evaluation: 0 hours required
    study = _units(client, phase="study")[p.unit.id]
    assert (study["met_hours"], study["participated"], study["avg_hours"]) == (0, 1, 2.0)


def test_a_batch_filter_keeps_its_units_only(client, session, make_place):
    first = make_place(members=1)
    other_batch = campaign.batch(session, number=2)
    second = make_place(members=2, batch_id=other_batch.id)
    assert set(_units(client, batch_id=first.batch_id)) == {first.unit.id}
    assert set(_units(client, batch_id=other_batch.id)) == {second.unit.id}
    r = client.get(COVERAGE, params={"batch_id": 999999})
    assert_problem(r, 404)


def test_exempted_members_are_left_out_as_the_look_back_leaves_them(client, session, make_place):
    p = make_place(members=3, categories=["retired"])
    session.add(
        MemberExemption(
            member_id=p.members[0].id, batch_id=p.batch_id, phase="study", reason="hospitalised"
        )
    )
    session.commit()
    unit = _units(client)[p.unit.id]
    look = client.get(f"/api/v1/units/{p.unit.id}/look-back").json()
    assert unit["members"] == look["members"] == 2
    assert unit["categories"]["retired"]["members"] == 2
    gaps = client.get(GAPS).json()
    assert {g["member_id"] for g in gaps["items"]} == {m.id for m in p.members[1:]}
    corners = client.get(CORNERS).json()["items"]
    assert [(c["branch_id"], c["category"], c["members"]) for c in corners] == [
        (p.branch.id, "retired", 2)
    ]


def test_a_branch_of_exempted_members_only_still_has_its_row(client, session, make_place):
    p = make_place(members=1)
    session.add(
        MemberExemption(
            member_id=p.members[0].id, batch_id=p.batch_id, phase="study", reason="abroad"
        )
    )
    session.commit()
    r = client.get(COVERAGE, params={"level": "branch"}).json()
    row = next(row for row in r["rows"] if row["id"] == p.branch.id)
    assert (row["members"], row["coverage"], row["avg_hours"]) == (0, None, None)
    assert r["rows"][-1]["id"] == p.branch.id  # nobody to count: after every other row


def test_inactive_means_more_than_30_days_without_attending(client, session, make_place):
    p = make_place(members=3)
    # All three have their hours: only the 30-day rule can make a gap.
    studied(session, p.members[0].id, p.batch_id, 12, days_ago(30))
    studied(session, p.members[1].id, p.batch_id, 12, days_ago(31))
    studied(session, p.members[2].id, p.batch_id, 12, None)
    items = client.get(GAPS).json()["items"]
    assert {g["member_id"]: g["reasons"] for g in items} == {
        p.members[1].id: ["inactive_30d"],
        p.members[2].id: ["inactive_30d"],
    }
    by_id = {g["member_id"]: g for g in items}
    assert by_id[p.members[1].id]["days_since"] == 31
    assert by_id[p.members[2].id]["days_since"] is None


def test_no_inactivity_before_the_phase_has_run_30_days(client, session, make_place):
    young = campaign.batch(session, number=3, min_hours=0, start=days_ago(29))
    p = make_place(members=3, batch_id=young.id)
    studied(session, p.members[1].id, young.id, 1, days_ago(1))
    studied(session, p.members[2].id, young.id, 1, days_ago(1))
    assert client.get(GAPS).json()["total"] == 0  # nor a session: yet not idle
    r = client.get(WEAK).json()
    assert p.branch.id not in {w["branch_id"] for w in r["items"]}


def test_gaps_sort_by_missing_hours_and_carry_the_remedy(client, session, make_place):
    p = make_place(members=0)
    plain = org.member(session, p.branch.id)
    away = org.member(session, p.branch.id, categories=["migrant", "retired"])
    home = org.member(session, p.branch.id, categories=["infirm"])
    studied(session, plain.id, p.batch_id, 8, days_ago(1))
    studied(session, away.id, p.batch_id, 2.5, days_ago(1))
    studied(session, home.id, p.batch_id, 9.5, days_ago(1))
    items = client.get(GAPS).json()["items"]
    assert [(g["member_id"], g["missing_hours"], g["remedy"]) for g in items] == [
        (away.id, 7.5, "distance_learning"),
        (plain.id, 2.0, "make_up"),
        (home.id, 0.5, "home_delivery"),
    ]
    assert items[0]["categories"] == ["migrant", "retired"]
    assert items[0]["reasons"] == ["below_hours"] and items[0]["required"] == 10
    assert [
        g["member_id"] for g in client.get(GAPS, params={"remedy": "home_delivery"}).json()["items"]
    ] == [home.id]
    assert [
        g["member_id"] for g in client.get(GAPS, params={"category": "retired"}).json()["items"]
    ] == [away.id]
    page = client.get(GAPS, params={"limit": 1, "offset": 1}).json()
    assert (page["total"], [g["member_id"] for g in page["items"]]) == (3, [plain.id])
    past_the_end = client.get(GAPS, params={"limit": 1, "offset": 5}).json()
    assert (past_the_end["total"], past_the_end["items"]) == (3, [])


def test_gap_filters_by_place(client, session, make_place):
    a, b = make_place(members=1), make_place(members=2)
    for params, want in (
        ({"district_id": a.district.id}, {m.id for m in a.members}),
        ({"unit_id": b.unit.id}, {m.id for m in b.members}),
        ({"branch_id": a.branch.id}, {m.id for m in a.members}),
    ):
        items = client.get(GAPS, params=params).json()["items"]
        assert {g["member_id"] for g in items} == want, params
    assert_problem(client.get(GAPS, params={"branch_id": 999999}), 404)


def test_weak_at_under_60_percent_participation(client, session, make_place):
    three, two = make_place(members=5), make_place(members=5)
    held(session, three.branch, three.batch_id, days_ago(1))
    held(session, two.branch, two.batch_id, days_ago(1))
    for m in three.members[:3]:
        studied(session, m.id, three.batch_id, 2, days_ago(1))
    for m in two.members[:2]:
        studied(session, m.id, two.batch_id, 2, days_ago(1))
    items = client.get(WEAK).json()["items"]
    assert [(w["branch_id"], w["participation"], w["reasons"]) for w in items] == [
        (two.branch.id, 0.4, ["low_participation"])
    ]


def test_weak_after_more_than_30_days_without_a_session(client, session, make_place):
    thirty, older, never = make_place(members=0), make_place(members=0), make_place(members=0)
    held(session, thirty.branch, thirty.batch_id, days_ago(30))
    held(session, older.branch, older.batch_id, days_ago(31))
    held(session, older.branch, older.batch_id, days_ago(40), format="make_up")
    items = {w["branch_id"]: w for w in client.get(WEAK).json()["items"]}
    assert set(items) == {older.branch.id, never.branch.id}
    assert items[older.branch.id]["days_without_session"] == 31
    assert items[older.branch.id]["last_session_on"] == days_ago(31).isoformat()
    # Never held one: counted from the day the phase's window began.
    assert items[never.branch.id]["days_without_session"] == 45
    assert items[never.branch.id]["reasons"] == ["no_recent_session"]
    assert items[never.branch.id]["participation"] is None


def test_sessions_formats_and_leader_lectures(client, session, make_place):
    p = make_place(members=1)
    held(
        session,
        p.branch,
        p.batch_id,
        days_ago(3),
        format="party_lecture",
        lecturer_is_leading_cadre=True,
    )
    held(session, p.branch, p.batch_id, days_ago(2), format="seminar")
    held(session, p.branch, p.batch_id, days_ago(1), format="seminar")
    held(session, p.branch, p.batch_id, days_ago(50), phase="evaluation", format="self_study")
    row = _units(client)[p.unit.id]
    assert (row["sessions"], row["formats_used"], row["leader_lectures"]) == (3, 2, 1)
    assert row["formats"] == ["party_lecture", "seminar"]


def test_parent_id_must_fit_the_level_and_be_in_scope(client, make_place):
    p = make_place(members=1)
    r = client.get(COVERAGE, params={"level": "district", "parent_id": p.district.id})
    assert_problem(r, 422)
    assert r.json()["errors"][0]["loc"] == ["query", "parent_id"]
    assert_problem(client.get(COVERAGE, params={"level": "branch", "parent_id": 999999}), 404)
    r = client.get(COVERAGE, params={"level": "branch", "parent_id": p.unit.id})
    assert [row["id"] for row in r.json()["rows"]] == [p.branch.id]
    assert_problem(client.get(COVERAGE, params={"level": "county"}), 422)
