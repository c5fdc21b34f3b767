"""A session's set stays correctable after its members move on: a member recorded at a
session and since transferred to another branch, transferred out or deceased still attended
it, so the set may name them again (as stored) and keeps their hours."""

import pytest

from tests.org import factories as org
from tests.study.test_sessions import SESSIONS, new_session, totals
from tests.test_http import assert_problem


def _present(members) -> dict:
    return {"records": [{"member_id": m.id, "status": "present"} for m in members]}


def _held_with(client, branch_id: int, members) -> str:
    r = client.post(SESSIONS, json=new_session(branch_id, attendance=_present(members)["records"]))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _transferred(client, session, member, unit_id: int) -> None:
    """The member moved to a new branch of the same unit."""
    other = org.branch(session, unit_id)
    moved = client.post(
        f"/api/v1/members/{member.id}/transfer", json={"branch_id": other.id, "reason": "调动"}
    )
    assert moved.status_code == 201, moved.text


def test_a_transferred_member_stays_in_the_set_they_attended(client, session, branch_in_study):
    _, br, m = branch_in_study
    sid = _held_with(client, br.id, m[:3])
    _transferred(client, session, m[0], br.unit_id)

    again = client.put(f"{SESSIONS}/{sid}/attendance", json=_present(m[:3]))
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False
    # Correcting someone else keeps the moved member and their hours.
    records = _present(m[:3])["records"]
    records[1]["status"] = "late"
    r = client.put(f"{SESSIONS}/{sid}/attendance", json={"records": records})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True
    assert totals(session, m[0].id)[:2] == (3.0, 1)
    got = client.get(f"{SESSIONS}/{sid}").json()["attendance"]
    assert {a["member_id"]: a["is_guest"] for a in got} == {x.id: False for x in m[:3]}


@pytest.mark.parametrize("status", ["transferred_out", "deceased"])
def test_a_member_who_left_stays_in_the_set_they_attended(client, session, branch_in_study, status):
    _, br, m = branch_in_study
    sid = _held_with(client, br.id, m[:2])
    r = client.patch(f"/api/v1/members/{m[0].id}", json={"status": status})
    assert r.status_code == 200, r.text

    again = client.put(f"{SESSIONS}/{sid}/attendance", json=_present(m[:2]))
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False
    assert totals(session, m[0].id)[:2] == (3.0, 1)


def test_a_member_not_in_the_set_is_still_judged_as_now(client, session, branch_in_study):
    """Only the stored set is kept as it was: a member who has moved away and was not
    recorded there is refused, as anyone of another branch is."""
    _, br, m = branch_in_study
    sid = _held_with(client, br.id, m[:1])
    _transferred(client, session, m[1], br.unit_id)
    r = client.put(f"{SESSIONS}/{sid}/attendance", json=_present([m[0], m[1]]))
    assert_problem(r, 422)
    assert r.json()["errors"][0]["loc"] == ["body", "records", 1, "member_id"]
    assert totals(session, m[1].id) == (0.0, 0, None)
