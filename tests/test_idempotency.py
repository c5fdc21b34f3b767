"""Idempotency-Key on creating POSTs: a retry answers the first answer, once."""

import pytest
import sqlalchemy as sa

from app.auth.principal import Role
from app.idempotency.models import IdempotencyKey
from app.org.models import Member, Unit
from tests.auth import factories as users
from tests.imports import files
from tests.org import factories as org
from tests.test_http import assert_problem


def test_a_retried_registration_creates_one_member(client, session):
    b = org.branch(session)
    body = {"name": "赵敏", "gender": "female", "branch_id": b.id}
    key = {"Idempotency-Key": "0b6f0c1e-retry"}
    first = client.post("/api/v1/members", json=body, headers=key)
    second = client.post("/api/v1/members", json=body, headers=key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Member)) == 1
    # Without a key, a second POST is a second request.
    assert client.post("/api/v1/members", json=body).status_code == 201


def test_keys_belong_to_their_user_and_to_one_request(client, client_as, session, city_admin):
    b = org.branch(session)
    key = {"Idempotency-Key": "same-key"}
    body = {"name": "赵敏", "gender": "female", "branch_id": b.id}
    assert client.post("/api/v1/members", json=body, headers=key).status_code == 201
    other_admin = client_as(users.user(session, "city_admin"))
    r = other_admin.post("/api/v1/members", json=body, headers=key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers  # their own key
    problem = assert_problem(
        client.post("/api/v1/members", json=body | {"name": "周芷若"}, headers=key), 422
    )
    assert problem["type"].endswith("idempotency-key-reused")
    # A refused request stores no key: fixing the body and retrying with the key works.
    bad_key = {"Idempotency-Key": "first-try-failed"}
    assert_problem(
        client.post("/api/v1/members", json=body | {"branch_id": 999999}, headers=bad_key), 422
    )
    assert client.post("/api/v1/members", json=body, headers=bad_key).status_code == 201
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 3


def test_a_key_still_in_use_answers_409(client, session, engine, city_admin):
    """On PostgreSQL the first request holds a lock on (user, key) until it commits; here a
    connection holds it, as a first request still running would."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs writing transactions one at a time: there is no 'meanwhile'")
    b = org.branch(session)
    body = {"name": "赵敏", "gender": "female", "branch_id": b.id}
    with engine.connect() as other:
        other.execute(
            sa.select(sa.func.pg_advisory_lock(sa.func.hashtext(f"{city_admin.id}:busy")))
        )
        problem = assert_problem(
            client.post("/api/v1/members", json=body, headers={"Idempotency-Key": "busy"}), 409
        )
        other.execute(sa.select(sa.func.pg_advisory_unlock_all()))
    assert problem["type"].endswith("idempotency-key-in-use")
    assert (
        client.post("/api/v1/members", json=body, headers={"Idempotency-Key": "busy"}).status_code
        == 201
    )


def test_a_retried_import_answers_the_first_answer(client, session):
    b = org.branch(session)
    content = files.xlsx(files.table([files.member(b.code, n) for n in range(3)]))
    key = {"Idempotency-Key": "import-1"}
    first = client.post(
        "/api/v1/imports/members", files={"file": ("党员.xlsx", content)}, headers=key
    )
    again = client.post(
        "/api/v1/imports/members", files={"file": ("党员.xlsx", content)}, headers=key
    )
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Member)) == 3
    other = files.xlsx(files.table([files.member(b.code, 7)]))
    r = client.post("/api/v1/imports/members", files={"file": ("党员.xlsx", other)}, headers=key)
    assert_problem(r, 422)


def test_a_key_is_not_replayed_to_an_account_moved_to_another_unit(client, client_as, session):
    """The first answer was a member of the unit the account has since left: resent, the
    key is a miss and the request is refused as any other from outside that unit."""
    b = org.branch(session)
    admin = users.user(session, Role.unit_admin, unit_id=b.unit_id)
    body = {"name": "张三", "gender": "male", "branch_id": b.id}
    key = {"Idempotency-Key": "before-the-move"}
    first = client_as(admin).post("/api/v1/members", json=body, headers=key)
    assert first.status_code == 201, first.text
    moved = client.patch(f"/api/v1/users/{admin.id}", json={"unit_id": org.unit(session).id})
    assert moved.status_code == 200, moved.text
    session.refresh(admin)  # its tokens were voided: a new one, at the new token version
    now = client_as(admin)
    assert_problem(now.get(f"/api/v1/members/{first.json()['id']}"), 404)
    replay = assert_problem(now.post("/api/v1/members", json=body, headers=key), 422)
    assert replay["errors"][0]["loc"] == ["body", "branch_id"], replay


def test_a_key_is_not_replayed_unmasked_to_a_demoted_city_admin(client, client_as, session):
    """Only city admins read ID numbers and phones in full. Once demoted, resending a key
    runs the request afresh (refused here: the ID number is registered) and shows neither;
    a key sent after the demotion is replayed as usual, masked."""
    b = org.branch(session)
    admin = users.user(session, Role.city_admin)
    idn, phone = org.id_number(), "13812345678"
    body = {"name": "李四", "gender": "male", "branch_id": b.id, "id_number": idn, "phone": phone}
    key = {"Idempotency-Key": "before-the-demotion"}
    assert client_as(admin).post("/api/v1/members", json=body, headers=key).status_code == 201
    district_id = session.get(Unit, b.unit_id).district_id
    demoted = client.patch(
        f"/api/v1/users/{admin.id}", json={"role": "district_admin", "district_id": district_id}
    )
    assert demoted.status_code == 200, demoted.text
    session.rollback()  # ends the read that looked up the unit, so the refresh sees the demotion
    session.refresh(admin)
    now = client_as(admin)
    replay = now.post("/api/v1/members", json=body, headers=key)
    assert "Idempotent-Replayed" not in replay.headers, replay.text
    assert phone not in replay.text and idn not in replay.text, replay.text
    assert assert_problem(replay, 409)["type"].endswith("duplicate-id-number")
    other = body | {"id_number": org.id_number()}
    first = now.post("/api/v1/members", json=other, headers=key)
    again = now.post("/api/v1/members", json=other, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert again.json()["phone"] == "138****5678"
