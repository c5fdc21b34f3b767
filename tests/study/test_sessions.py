"""Sessions and attendance sets: validation, the credited hours, totals that follow."""

import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.campaign.models import UnitProgress
from app.clock import today
from app.org.models import Branch
from app.study.models import Attendance, MemberStudyTotal, StudySession
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.test_http import assert_problem

SESSIONS = "/api/v1/sessions"


def new_session(branch_id: int, **over) -> dict:
    return {
        "branch_id": branch_id,
        "held_on": today().isoformat(),
        "format": "collective_study",
        "hours": 3,
        "topic": "学习党章",
        **over,
    }


def count(session, model) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def totals(session, member_id: int) -> tuple:
    session.rollback()  # a new read: the API wrote from its own connection
    t = session.scalar(sa.select(MemberStudyTotal).where(MemberStudyTotal.member_id == member_id))
    return (float(t.hours), t.sessions, t.last_attended_on) if t else (0.0, 0, None)


def test_a_session_with_attendance_credits_hours(client, session, branch_in_study):
    b, br, m = branch_in_study
    records = [
        {"member_id": m[0].id, "status": "present"},
        {"member_id": m[1].id, "status": "late", "hours": 2},
        {"member_id": m[2].id, "status": "excused"},
        {"member_id": m[3].id, "status": "absent"},
    ]
    r = client.post(SESSIONS, json=new_session(br.id, attendance=records))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["phase"], body["batch_id"]) == ("study", b.id)
    credited = {a["member_id"]: a["credited"] for a in body["attendance"]}
    assert credited == {m[0].id: 3, m[1].id: 2, m[2].id: 0, m[3].id: 0}
    assert totals(session, m[0].id) == (3.0, 1, today())
    assert totals(session, m[2].id) == (0.0, 0, None)


def test_the_same_set_twice_changes_nothing(client, session, branch_in_study):
    _, br, m = branch_in_study
    sid = client.post(SESSIONS, json=new_session(br.id)).json()["id"]
    records = {"records": [{"member_id": x.id, "status": "present"} for x in m]}
    first = client.put(f"{SESSIONS}/{sid}/attendance", json=records)
    assert first.status_code == 200, first.text
    assert first.json() | {"session_id": None} == {
        "session_id": None,
        "changed": True,
        "records": 5,
        "present": 5,
        "late": 0,
        "excused": 0,
        "absent": 0,
        "credited_hours": 15.0,
    }
    audit_rows = count(session, AuditEntry)
    again = client.put(f"{SESSIONS}/{sid}/attendance", json=records)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert count(session, AuditEntry) == audit_rows
    assert totals(session, m[0].id) == (3.0, 1, today())
    # A smaller set takes back what it no longer says.
    records["records"] = records["records"][:2]
    client.put(f"{SESSIONS}/{sid}/attendance", json=records)
    assert totals(session, m[4].id) == (0.0, 0, None)
    assert count(session, Attendance) == 2


def test_a_set_s_audit_entry_gives_its_hours_in_tenths(client, session, branch_in_study):
    """The same figures in the same form on both databases: PostgreSQL adds up the stored
    columns (tenths), Python what the request sent (1 or 1.50)."""
    _, br, m = branch_in_study
    sid = client.post(SESSIONS, json=new_session(br.id)).json()["id"]  # 3 hours
    sets = [
        [{"member_id": m[0].id, "status": "present", "hours": 1}],
        [
            {"member_id": m[0].id, "status": "late", "hours": "1.50"},
            {"member_id": m[1].id, "status": "present"},
        ],
        [{"member_id": x.id, "status": "absent"} for x in m[:2]],
    ]
    for records in sets:
        answer = client.put(f"{SESSIONS}/{sid}/attendance", json={"records": records})
        assert answer.status_code == 200, answer.text
    session.rollback()
    entries = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "attendance").order_by(AuditEntry.id)
    ).all()
    assert [e.before["credited_hours"] for e in entries] == ["0.0", "1.0", "4.5"]
    assert [e.after["credited_hours"] for e in entries] == ["1.0", "4.5", "0.0"]


def test_edits_and_deletes_move_the_totals(client, session, branch_in_study):
    _, br, m = branch_in_study
    early = (today() - timedelta(days=3)).isoformat()
    first = client.post(
        SESSIONS,
        json=new_session(
            br.id, held_on=early, attendance=[{"member_id": m[0].id, "status": "present"}]
        ),
    )
    second = client.post(
        SESSIONS,
        json=new_session(
            br.id, attendance=[{"member_id": m[0].id, "status": "present", "hours": 1}]
        ),
    )
    assert totals(session, m[0].id) == (4.0, 2, today())
    r = client.patch(f"{SESSIONS}/{first.json()['id']}", json={"hours": 2})
    assert r.status_code == 200, r.text
    assert totals(session, m[0].id) == (3.0, 2, today())
    # Sent again, or sent empty, a PATCH changes nothing and writes no audit entry.
    for body in ({"hours": 2}, {}, {"phase": "study", "held_on": early}):
        again = client.patch(f"{SESSIONS}/{first.json()['id']}", json=body)
        assert again.status_code == 200 and again.json() == r.json()
    edits = sa.select(sa.func.count()).where(
        AuditEntry.entity == "session", AuditEntry.action == "update"
    )
    session.rollback()
    assert session.scalar(edits) == 1
    assert totals(session, m[0].id) == (3.0, 2, today())
    assert client.delete(f"{SESSIONS}/{second.json()['id']}").status_code == 204
    assert totals(session, m[0].id) == (2.0, 1, today() - timedelta(days=3))
    assert count(session, StudySession) == 1


def test_bad_sessions_and_records_are_refused_writing_nothing(client, session, branch_in_study):
    b, br, m = branch_in_study
    stranger = org.member(session)  # another branch, no category
    migrant = org.member(session, categories=["migrant"])  # a unit in no batch yet
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert assert_problem(client.post(SESSIONS, json=new_session(br.id, held_on=tomorrow)), 422)
    long_ago = (today() - timedelta(days=400)).isoformat()
    assert_problem(client.post(SESSIONS, json=new_session(br.id, held_on=long_ago)), 422)
    assert_problem(client.post(SESSIONS, json=new_session(br.id, hours=13)), 422)
    assert_problem(client.post(SESSIONS, json=new_session(br.id, hours=0.25)), 422)
    sid = client.post(SESSIONS, json=new_session(br.id)).json()["id"]
    for records, loc in (
        (
            [
                {"member_id": m[0].id, "status": "present"},
                {"member_id": stranger.id, "status": "present"},
            ],
            ["body", "records", 1, "member_id"],
        ),
        (
            [{"member_id": m[0].id, "status": "present", "hours": 4}],
            ["body", "records", 0, "hours"],
        ),
        (
            [{"member_id": m[0].id, "status": "present"}, {"member_id": m[0].id, "status": "late"}],
            ["body", "records", 1, "member_id"],
        ),
        ([{"member_id": 99999999, "status": "present"}], ["body", "records", 0, "member_id"]),
    ):
        problem = assert_problem(
            client.put(f"{SESSIONS}/{sid}/attendance", json={"records": records}), 422
        )
        assert problem["errors"][0]["loc"] == loc, problem
    too_many = {"records": [{"member_id": i + 1, "status": "present"} for i in range(1001)]}
    assert_problem(client.put(f"{SESSIONS}/{sid}/attendance", json=too_many), 413)
    huge = b'{"records": [' + b" " * (1024 * 1024) + b"]}"
    r = client.put(
        f"{SESSIONS}/{sid}/attendance", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(r, 413)
    assert count(session, Attendance) == 0
    # A migrant of a unit outside the batch may not: their look-back would never see it.
    guest = {"records": [{"member_id": migrant.id, "status": "present"}]}
    assert_problem(client.put(f"{SESSIONS}/{sid}/attendance", json=guest), 422)
    # A migrant member of another branch in the batch may attend as a guest, credited to
    # themselves.
    campaign.enrol(session, session.get(Branch, migrant.branch_id).unit_id, b.id, "study")
    r = client.put(f"{SESSIONS}/{sid}/attendance", json=guest)
    assert r.status_code == 200 and r.json()["changed"] is True
    assert client.get(f"{SESSIONS}/{sid}").json()["attendance"][0]["is_guest"] is True
    assert totals(session, migrant.id)[0] == 3.0
    # Once the migrant belongs to the session's branch, the same set rewrites the record as
    # a member's own; the hours stay counted once.
    migrant.branch_id = br.id
    session.commit()
    r = client.put(f"{SESSIONS}/{sid}/attendance", json=guest)
    assert r.status_code == 200 and r.json()["changed"] is True
    assert client.get(f"{SESSIONS}/{sid}").json()["attendance"][0]["is_guest"] is False
    assert totals(session, migrant.id)[0] == 3.0
    again = client.put(f"{SESSIONS}/{sid}/attendance", json=guest)
    assert again.json()["changed"] is False


def test_a_client_id_makes_creation_idempotent(client, session, branch_in_study):
    _, br, _ = branch_in_study
    sid = str(uuid.uuid4())
    assert client.post(SESSIONS, json=new_session(br.id, id=sid)).status_code == 201
    again = client.post(SESSIONS, json=new_session(br.id, id=sid))
    assert again.status_code == 200 and again.json()["id"] == sid
    assert_problem(client.post(SESSIONS, json=new_session(br.id, id=sid, topic="别的")), 409)
    assert count(session, StudySession) == 1


def test_a_phone_resending_its_session_later_is_answered_as_sent(client, session, branch_in_study):
    """A retry days later, after the unit moved on, is the same session (no phase sent: the
    session keeps its own), and the attendance taken offline and sent with it is written."""
    _, br, m = branch_in_study
    sid = str(uuid.uuid4())
    assert client.post(SESSIONS, json=new_session(br.id, id=sid)).status_code == 201
    progress = session.get(UnitProgress, br.unit_id)
    progress.state = "evaluation"
    session.commit()
    again = client.post(SESSIONS, json=new_session(br.id, id=sid))
    assert again.status_code == 200, again.text
    assert again.json()["phase"] == "study"
    with_set = new_session(br.id, id=sid, attendance=[{"member_id": m[0].id, "status": "present"}])
    r = client.post(SESSIONS, json=with_set)
    assert r.status_code == 200, r.text
    assert [a["member_id"] for a in r.json()["attendance"]] == [m[0].id]
    assert totals(session, m[0].id)[:2] == (3.0, 1)
    assert client.post(SESSIONS, json=with_set).status_code == 200
    assert totals(session, m[0].id)[:2] == (3.0, 1)
    assert count(session, StudySession) == 1
    # Named explicitly, another phase is another session's content.
    assert_problem(client.post(SESSIONS, json=new_session(br.id, id=sid, phase="evaluation")), 409)


def test_an_inline_set_s_errors_name_the_attendance_field(client, session, branch_in_study):
    _, br, m = branch_in_study
    stranger = org.member(session)
    records = [
        {"member_id": m[0].id, "status": "present"},
        {"member_id": stranger.id, "status": "present"},
    ]
    problem = assert_problem(
        client.post(SESSIONS, json=new_session(br.id, attendance=records)), 422
    )
    assert problem["errors"][0]["loc"] == ["body", "attendance", 1, "member_id"]
    assert count(session, StudySession) == 0


def test_hours_are_not_cut_below_a_record_s_own(client, session, branch_in_study):
    """Lowering a session's hours under a member's recorded hours is refused, naming the
    hours: the stored set must stay one the secretary can send again unchanged."""
    _, br, m = branch_in_study
    sid = client.post(SESSIONS, json=new_session(br.id)).json()["id"]
    records = {"records": [{"member_id": m[0].id, "status": "present", "hours": 2.5}]}
    assert client.put(f"{SESSIONS}/{sid}/attendance", json=records).status_code == 200
    problem = assert_problem(client.patch(f"{SESSIONS}/{sid}", json={"hours": 2}), 422)
    assert problem["errors"][0]["loc"] == ["body", "hours"]
    assert client.get(f"{SESSIONS}/{sid}").json()["hours"] == 3.0
    again = client.put(f"{SESSIONS}/{sid}/attendance", json=records)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert client.patch(f"{SESSIONS}/{sid}", json={"hours": 2.5}).status_code == 200
    assert totals(session, m[0].id)[0] == 2.5


def test_idempotency_key_replays_the_first_answer(client, session, branch_in_study):
    _, br, _ = branch_in_study
    key = {"Idempotency-Key": "phone-42-0001"}
    first = client.post(SESSIONS, json=new_session(br.id), headers=key)
    again = client.post(SESSIONS, json=new_session(br.id), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert_problem(client.post(SESSIONS, json=new_session(br.id, topic="另一次"), headers=key), 422)
    assert count(session, StudySession) == 1


def test_who_may_record_and_edit(client_as, session, branch_in_study):
    _, br, m = branch_in_study
    secretary = client_as(users.user(session, Role.branch_secretary, branch_id=br.id))
    r = secretary.post(SESSIONS, json=new_session(br.id))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    put = {"records": [{"member_id": m[0].id, "status": "present"}]}
    assert secretary.put(f"{SESSIONS}/{sid}/attendance", json=put).status_code == 200
    assert_problem(secretary.patch(f"{SESSIONS}/{sid}", json={"topic": "改"}), 403)
    assert_problem(secretary.delete(f"{SESSIONS}/{sid}"), 403)
    other = org.branch(session)
    assert_problem(secretary.post(SESSIONS, json=new_session(other.id)), 422)
    inspector = client_as(users.user(session, Role.inspector, unit_ids=(br.unit_id,)))
    assert inspector.get(f"{SESSIONS}/{sid}").status_code == 200
    assert_problem(inspector.post(SESSIONS, json=new_session(br.id)), 403)
    outsider = client_as(users.user(session, Role.unit_admin, unit_id=other.unit_id))
    assert_problem(outsider.get(f"{SESSIONS}/{sid}"), 404)


def test_a_members_study_shows_hours_gap_and_remedy(client, session, branch_in_study):
    _, br, m = branch_in_study
    client.patch(f"/api/v1/members/{m[0].id}", json={"categories": ["retired"]})
    client.post(
        SESSIONS, json=new_session(br.id, attendance=[{"member_id": m[0].id, "status": "present"}])
    )
    r = client.get(f"/api/v1/members/{m[0].id}/study")
    assert r.status_code == 200, r.text
    body = r.json()
    study = next(p for p in body["phases"] if p["phase"] == "study")
    assert (study["hours"], study["sessions"], study["required_hours"]) == (3, 1, 40)
    assert body["gap"] is True and body["reasons"] == ["below_hours"]
    assert body["remedy"] == "home_delivery" and len(body["sessions"]) == 1


def test_concurrent_writers_of_one_set_move_the_totals_once(
    app, engine, session, branch_in_study, city_admin
):
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from app.study import totals as running

    _, br, m = branch_in_study
    headers = users.bearer(engine, city_admin)
    with TestClient(app, headers=headers) as c:
        sid = c.post(SESSIONS, json=new_session(br.id)).json()["id"]
    body = {"records": [{"member_id": x.id, "status": "present"} for x in m]}

    def put(_):
        with TestClient(app, headers=headers) as c:
            return c.put(f"{SESSIONS}/{sid}/attendance", json=body).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(put, range(6))) == {200}
    session.rollback()
    assert running.differences(session) == []
    assert totals(session, m[0].id) == (3.0, 1, today())
