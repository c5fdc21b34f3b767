"""Idempotency-Key on creating POSTs: a retry answers the first answer, once."""

import pytest
import sqlalchemy as sa

from app.idempotency.models import IdempotencyKey
from app.org.models import Member
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
