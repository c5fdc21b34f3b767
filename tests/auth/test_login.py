"""Logging in, tokens, the brute-force brake and the signing key."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.audit.models import AuditEntry
from app.auth.models import AppSecret, LoginFailure
from app.auth.principal import Role
from app.auth.tokens import ALGORITHM, signing_key
from app.clock import utcnow
from tests.auth import factories
from tests.org import factories as org
from tests.test_http import assert_problem

TOKEN = "/api/v1/auth/token"


def log_in(c, username: str, password: str = factories.PASSWORD):
    return c.post(TOKEN, data={"username": username, "password": password})


def test_login_answers_a_bearer_token_that_opens_the_api(anon, session):
    u = factories.user(session, Role.branch_secretary, branch_id=org.branch(session).id)
    r = log_in(anon, u.username.upper())  # usernames are not case-sensitive
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 8 * 3600
    me = anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == u.username and me.json()["role"] == "branch_secretary"


def test_me_resolves_the_scope_above_a_secretary(client_as, session):
    b = org.branch(session)
    u = factories.user(session, Role.branch_secretary, branch_id=b.id)
    scope = client_as(u).get("/api/v1/auth/me").json()["scope"]
    assert scope["level"] == "branch" and scope["branch_id"] == b.id
    assert scope["unit_id"] == b.unit_id and scope["district_id"] is not None


def test_wrong_password_and_unknown_user_answer_the_same_401(anon, session):
    u = factories.user(session, Role.city_admin)
    times, bodies = [], []
    for username, password in ((u.username, "wrong password!"), ("nobody-here", "whatever123")):
        start = time.perf_counter()
        r = log_in(anon, username, password)
        times.append(time.perf_counter() - start)
        bodies.append(assert_problem(r, 401))
        assert r.headers["www-authenticate"] == "Bearer"
    assert bodies[0] == bodies[1]
    # Both pay for one Argon2 verification: neither is an order of magnitude faster.
    assert min(times) > max(times) / 5


def test_inactive_user_cannot_log_in(anon, session):
    u = factories.user(session, Role.city_admin, is_active=False)
    assert_problem(log_in(anon, u.username), 401)


def test_five_failures_lock_the_username_with_retry_after(anon, session):
    u = factories.user(session, Role.city_admin)
    for _ in range(5):
        assert_problem(log_in(anon, u.username, "not the password"), 401)
    r = log_in(anon, u.username)  # even the right password waits
    assert_problem(r, 429)
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60
    # Failures are counted in the database, and each is audited.
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 5
    audited = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "login_failed"))
    # The actor is anonymous; the account attacked is the entity.
    rows = [(a.user_id, a.username, a.entity, a.entity_id) for a in audited]
    assert rows == [(None, u.username, "user", str(u.id))] * 5
    # Another username is not affected.
    other = factories.user(session, Role.city_admin)
    assert log_in(anon, other.username).status_code == 200


def test_the_lock_opens_when_failures_age_out_and_success_resets_the_count(anon, session):
    u = factories.user(session, Role.city_admin)
    old = utcnow() - timedelta(minutes=16)
    session.add_all(LoginFailure(username=u.username, at=old) for _ in range(5))
    session.commit()
    assert log_in(anon, u.username).status_code == 200
    assert session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_bad_tokens_are_401_with_www_authenticate(anon, session, engine):
    u = factories.user(session, Role.city_admin)
    key = signing_key(engine)
    now = utcnow()
    expired = jwt.encode(
        {"sub": str(u.id), "ver": 0, "exp": now - timedelta(seconds=1)}, key, ALGORITHM
    )
    tampered = factories.bearer(engine, u)["Authorization"].removeprefix("Bearer ")[:-3] + "abc"
    foreign = jwt.encode(
        {"sub": str(u.id), "ver": 0, "exp": now + timedelta(hours=1)},
        "another key, long enough for HS256 use",
        ALGORITHM,
    )
    no_version = jwt.encode({"sub": str(u.id), "exp": now + timedelta(hours=1)}, key, ALGORITHM)
    for header in (
        None,
        "Bearer",
        "Bearer not-a-jwt",
        f"Bearer {expired}",
        f"Bearer {tampered}",
        f"Bearer {foreign}",
        f"Bearer {no_version}",
        "Basic dXNlcjpwYXNz",
    ):
        r = anon.get("/api/v1/units", headers={"Authorization": header} if header else {})
        body = assert_problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer", header
    assert (
        "expired"
        in anon.get("/api/v1/units", headers={"Authorization": f"Bearer {expired}"}).json()[
            "detail"
        ]
    )
    assert body["type"] == "urn:campaign:problem:unauthorized"


def test_deactivation_and_new_password_void_tokens_at_once(client, client_as, session):
    victim = factories.user(session, Role.city_admin)
    victim_client = client_as(victim)
    assert victim_client.get("/api/v1/auth/me").status_code == 200
    r = client.patch(f"/api/v1/users/{victim.id}", json={"password": "a brand new secret"})
    assert r.status_code == 200, r.text
    assert_problem(victim_client.get("/api/v1/auth/me"), 401)

    session.refresh(victim)
    again = client_as(victim)
    assert again.get("/api/v1/auth/me").status_code == 200
    assert client.patch(f"/api/v1/users/{victim.id}", json={"is_active": False}).status_code == 200
    assert_problem(again.get("/api/v1/auth/me"), 401)


def test_changing_my_password(client_as, anon, session):
    u = factories.user(session, Role.unit_admin, unit_id=org.unit(session).id)
    c = client_as(u)
    body = {"current_password": "not it at all", "new_password": "another long one"}
    problem = assert_problem(c.post("/api/v1/auth/password", json=body), 422)
    assert problem["errors"][0]["loc"] == ["body", "current_password"]
    body["current_password"] = factories.PASSWORD
    r = c.post("/api/v1/auth/password", json=body)
    assert r.status_code == 200, r.text
    assert_problem(c.get("/api/v1/auth/me"), 401)  # the old token is void
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert anon.get("/api/v1/auth/me", headers=fresh).status_code == 200  # the new one works
    assert log_in(anon, u.username, "another long one").status_code == 200


def test_guessing_the_current_password_is_braked_like_logins(client_as, session):
    u = factories.user(session, Role.branch_secretary, branch_id=org.branch(session).id)
    c = client_as(u)
    body = {"current_password": "a wrong guess", "new_password": "another long one"}
    for _ in range(5):
        assert_problem(c.post("/api/v1/auth/password", json=body), 422)
    body["current_password"] = factories.PASSWORD
    assert_problem(c.post("/api/v1/auth/password", json=body), 429)
    audited = session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity == "user"))
    assert list(audited) == ["password_change_failed"] * 5


def test_parallel_guesses_cannot_outrun_the_brake(app, session):
    """Attempts are reserved before the slow hash: 12 guesses at once, 5 are checked."""
    u = factories.user(session, Role.city_admin)

    def guess(_):
        with TestClient(app) as c:
            return log_in(c, u.username, "wrong password!").status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(guess, range(12)))
    assert statuses == [401] * 5 + [429] * 7


def test_a_username_with_a_control_character_is_an_unknown_user(anon, session):
    """No account's name holds one: the same 401 as any unknown user (PostgreSQL answered a
    422 naming nothing), the failure still counted and audited, the character replaced."""
    unknown = assert_problem(log_in(anon, "nobody-here", "whatever123"), 401)
    for username in ("ad\x00min", "ad\x01min"):
        assert assert_problem(log_in(anon, username, "whatever123"), 401) == unknown
    audited = session.scalars(
        sa.select(AuditEntry.username).where(AuditEntry.action == "login_failed")
    ).all()
    assert sorted(audited) == ["ad\ufffdmin", "ad\ufffdmin", "nobody-here"]
    counted = session.scalars(sa.select(LoginFailure.username)).all()
    assert sorted(counted) == ["ad\ufffdmin", "ad\ufffdmin", "nobody-here"]


def test_without_secret_key_one_key_is_made_and_shared(engine, session):
    first = signing_key(engine)
    assert len(first) >= 32 and signing_key(engine) == first
    assert session.scalar(sa.select(sa.func.count()).select_from(AppSecret)) == 1
