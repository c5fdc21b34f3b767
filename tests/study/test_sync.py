"""Offline sync: a phone's queue, item by item."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.auth.principal import Principal, Role
from app.clock import today
from app.study import sync
from app.study.models import StudySession
from app.study.schemas import SyncRequest
from tests.auth import factories as users
from tests.org import factories as org
from tests.study.test_sessions import new_session, totals
from tests.test_http import assert_problem

SYNC = "/api/v1/sync/sessions"


def item(branch_id: int, members, **over) -> dict:
    return {
        "id": str(uuid.uuid4()),
        **new_session(branch_id),
        "attendance": [{"member_id": m.id, "status": "present"} for m in members],
        **over,
    }


def test_one_bad_item_does_not_hold_back_the_others(client, session, branch_in_study):
    _, br, m = branch_in_study
    good, bad = (
        item(br.id, m[:2]),
        item(br.id, m[:2], held_on=(today() + timedelta(days=2)).isoformat()),
    )
    other = item(br.id, [org.member(session)])  # a stranger in the set
    r = client.post(SYNC, json={"sessions": [good, bad, other]})
    assert r.status_code == 200, r.text
    results = r.json()
    assert [x["result"] for x in results] == ["created", "rejected", "rejected"]
    assert results[1]["problem"]["status"] == 422
    loc = ["body", "sessions", 2, "attendance", 0, "member_id"]  # where the phone sent it
    assert results[2]["problem"]["errors"][0]["loc"] == loc
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(StudySession)) == 1
    assert totals(session, m[0].id)[0] == 3.0

    good["attendance"].append({"member_id": m[2].id, "status": "late"})
    again = client.post(SYNC, json={"sessions": [good, item(br.id, [])]}).json()
    assert [x["result"] for x in again] == ["updated", "created"]
    assert [x["result"] for x in client.post(SYNC, json={"sessions": [good]}).json()] == [
        "unchanged"
    ]
    assert totals(session, m[2].id)[0] == 3.0


def test_a_secretary_syncs_attendance_but_not_session_edits(client_as, session, branch_in_study):
    _, br, m = branch_in_study
    secretary = client_as(users.user(session, Role.branch_secretary, branch_id=br.id))
    it = item(br.id, m[:1])
    assert secretary.post(SYNC, json={"sessions": [it]}).json()[0]["result"] == "created"
    it["topic"] = "改过的主题"
    result = secretary.post(SYNC, json={"sessions": [it]}).json()[0]
    assert result["result"] == "rejected" and result["problem"]["status"] == 403


def test_a_resent_item_keeps_its_phase_and_its_set(client, session, branch_in_study):
    _, br, m = branch_in_study
    it = item(br.id, m[:2])
    assert client.post(SYNC, json={"sessions": [it]}).json()[0]["result"] == "created"
    session.rollback()
    from app.campaign.models import UnitProgress

    progress = session.get(UnitProgress, br.unit_id)
    progress.state = "evaluation"  # the unit moved on meanwhile
    session.commit()
    assert [x["result"] for x in client.post(SYNC, json={"sessions": [it]}).json()] == ["unchanged"]
    without_set = {k: v for k, v in it.items() if k != "attendance"}
    assert client.post(SYNC, json={"sessions": [without_set]}).json()[0]["result"] == "unchanged"
    assert totals(session, m[0].id)[0] == 3.0


def test_a_nul_in_text_is_refused_naming_its_item(client, session, branch_in_study):
    """As any value outside an item's schema (hours over 12, say): the request is refused,
    naming the item and field, on both databases alike (PostgreSQL cannot store a NUL, SQLite
    would); the phone fixes that item and sends the queue again."""
    _, br, m = branch_in_study
    good, odd = item(br.id, m[:1]), item(br.id, [], topic="主题\x00")
    r = client.post(SYNC, json={"sessions": [good, odd]})
    body = assert_problem(r, 422)
    assert body["errors"][0]["loc"] == ["body", "sessions", 1, "topic"]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(StudySession)) == 0


def test_a_resend_racing_the_first_send_finds_the_session(engine, session, branch_in_study):
    """PostgreSQL: the phone resends while its first send is still uncommitted. The resend
    waits for it and answers the session as sent, rather than refusing the item as if its
    data were bad."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a race between two connections: PostgreSQL")
    _, br, m = branch_in_study
    city = Principal(user_id=None, username="city", role=Role.city_admin)
    request = SyncRequest(sessions=[item(br.id, m[:1])])
    first = Session(engine)
    try:
        assert sync.sync_sessions(first, city, request)[0].result == "created"  # not committed
        answered = {}

        def resend() -> None:
            with Session(engine) as second:
                answered["result"] = sync.sync_sessions(second, city, request)[0]
                second.commit()

        thread = threading.Thread(target=resend)
        thread.start()
        time.sleep(0.5)  # the resend is waiting on the first send by now
        assert thread.is_alive()
        first.commit()
    finally:
        first.close()
    thread.join(10)
    assert answered["result"].result == "unchanged", answered["result"]
    assert totals(session, m[0].id)[:2] == (3.0, 1)


def test_an_item_may_lower_its_hours_and_correct_its_set_at_once(client, session, branch_in_study):
    _, br, m = branch_in_study
    it = item(br.id, m[:1])  # 3 hours
    it["attendance"][0]["hours"] = 2.5
    assert client.post(SYNC, json={"sessions": [it]}).json()[0]["result"] == "created"
    # Hours alone, below the stored record's own: refused, at the item's field.
    lowered = {k: v for k, v in it.items() if k != "attendance"} | {"hours": 2}
    result = client.post(SYNC, json={"sessions": [lowered]}).json()[0]
    assert result["result"] == "rejected"
    assert result["problem"]["errors"][0]["loc"] == ["body", "sessions", 0, "hours"]
    # With the set corrected in the same item, the new set is checked against the new hours.
    it["hours"], it["attendance"][0]["hours"] = 2, 2
    assert client.post(SYNC, json={"sessions": [it]}).json()[0]["result"] == "updated"
    assert totals(session, m[0].id)[:2] == (2.0, 1)
    # And a set still above the new hours is refused at its record.
    it["hours"], it["attendance"][0]["hours"] = 1.5, 2
    result = client.post(SYNC, json={"sessions": [it]}).json()[0]
    assert result["result"] == "rejected"
    assert result["problem"]["errors"][0]["loc"] == [
        "body",
        "sessions",
        0,
        "attendance",
        0,
        "hours",
    ]
    assert totals(session, m[0].id)[:2] == (2.0, 1)
