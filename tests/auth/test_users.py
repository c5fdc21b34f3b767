"""User management: who may create whom, scopes that match roles, the audit of each change."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.models import User
from app.auth.principal import Role
from tests.auth import factories
from tests.org import factories as org
from tests.test_http import assert_problem

USERS = "/api/v1/users"


def new_user(role: str, **scope) -> dict:
    return {
        "username": f"new_{role}",
        "display_name": "新用户",
        "role": role,
        "password": "long enough pass",
        **scope,
    }


def test_city_admin_creates_each_role_with_its_scope(client, session, anon):
    b = org.branch(session)
    u = session.get(org.Unit, b.unit_id)
    cases = {
        "city_admin": {},
        "district_admin": {"district_id": u.district_id},
        "unit_admin": {"unit_id": u.id},
        "branch_secretary": {"branch_id": b.id},
        "inspector": {"unit_ids": [u.id]},
    }
    for role, scope in cases.items():
        r = client.post(USERS, json=new_user(role, **scope))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["role"] == role and "password" not in body and "password_hash" not in body
        assert body["unit_ids"] == scope.get("unit_ids", [])
        login = anon.post(
            "/api/v1/auth/token", data={"username": f"new_{role}", "password": "long enough pass"}
        )
        assert login.status_code == 200, login.text
    listed = client.get(f"{USERS}?role=inspector").json()
    assert [x["username"] for x in listed["items"]] == ["new_inspector"]


def test_scope_must_match_the_role(client, session):
    b = org.branch(session)
    problem = assert_problem(client.post(USERS, json=new_user("unit_admin")), 422)
    assert problem["errors"][0]["loc"] == ["body", "unit_id"]
    problem = assert_problem(
        client.post(USERS, json=new_user("unit_admin", unit_id=b.unit_id, branch_id=b.id)), 422
    )
    assert problem["errors"][0]["loc"] == ["body", "branch_id"]
    problem = assert_problem(client.post(USERS, json=new_user("unit_admin", unit_id=999999)), 422)
    assert problem["errors"][0]["loc"] == ["body", "unit_id"]
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1  # the caller


def test_weak_password_and_duplicate_username(client):
    weak = new_user("city_admin", password="short")
    problem = assert_problem(client.post(USERS, json=weak), 422)
    assert problem["errors"][0]["loc"] == ["body", "password"]
    assert client.post(USERS, json=new_user("city_admin")).status_code == 201
    again = new_user("city_admin") | {"username": "NEW_City_Admin"}
    assert_problem(client.post(USERS, json=again), 409)


def test_district_admin_manages_lower_roles_inside_their_district(session, client_as):
    mine, other = org.unit(session), org.unit(session)
    admin = factories.user(session, Role.district_admin, district_id=mine.district_id)
    c = client_as(admin)
    assert c.post(USERS, json=new_user("unit_admin", unit_id=mine.id)).status_code == 201
    # Outside the district the unit does not exist for them.
    assert_problem(
        c.post(USERS, json=new_user("unit_admin", unit_id=other.id) | {"username": "x2x"}), 422
    )
    # Peers and superiors are not theirs to make.
    assert_problem(
        c.post(USERS, json=new_user("district_admin", district_id=mine.district_id)), 403
    )
    assert_problem(c.post(USERS, json=new_user("city_admin")), 403)
    stranger = factories.user(session, Role.unit_admin, unit_id=other.id)
    assert_problem(c.get(f"{USERS}/{stranger.id}"), 404)
    assert_problem(c.patch(f"{USERS}/{stranger.id}", json={"is_active": False}), 404)
    names = {x["username"] for x in c.get(USERS).json()["items"]}
    assert names == {admin.username, "new_unit_admin"}


def test_lower_roles_may_not_manage_users(session, client_as):
    u = org.unit(session)
    c = client_as(factories.user(session, Role.unit_admin, unit_id=u.id))
    assert_problem(c.get(USERS), 403)
    assert_problem(c.post(USERS, json=new_user("branch_secretary", branch_id=1)), 403)


def test_role_change_resets_scope_and_voids_tokens(client, client_as, session):
    b = org.branch(session)
    u = factories.user(session, Role.unit_admin, unit_id=b.unit_id)
    their_client = client_as(u)
    r = client.patch(f"{USERS}/{u.id}", json={"role": "branch_secretary"})
    assert_problem(r, 422)  # the new role's scope must come with it
    r = client.patch(f"{USERS}/{u.id}", json={"role": "branch_secretary", "branch_id": b.id})
    assert r.status_code == 200, r.text
    assert (r.json()["unit_id"], r.json()["branch_id"]) == (None, b.id)
    assert_problem(their_client.get("/api/v1/auth/me"), 401)


def test_nobody_deactivates_themselves(client, city_admin):
    assert_problem(client.patch(f"{USERS}/{city_admin.id}", json={"is_active": False}), 409)


def test_user_changes_are_audited_without_secrets(client, session):
    r = client.post(USERS, json=new_user("city_admin"))
    uid = r.json()["id"]
    client.patch(f"{USERS}/{uid}", json={"password": "something else 1"})
    client.patch(f"{USERS}/{uid}", json={"is_active": False})
    rows = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == "user").order_by(AuditEntry.id)
    ).all()
    assert [a.action for a in rows] == ["create", "update", "deactivate"]
    assert rows[1].after == {"password": "(changed)"}
    assert rows[2].before == {"active": True} and rows[2].after == {"active": False}
    text = str([(a.before, a.after) for a in rows])
    assert "long enough pass" not in text and "argon2" not in text


def test_a_user_moved_to_another_district_is_audited_in_both(client, client_as, session):
    here, there = org.unit(session), org.unit(session)
    assert here.district_id != there.district_id
    moved = factories.user(session, Role.unit_admin, unit_id=here.id)
    r = client.patch(f"{USERS}/{moved.id}", json={"unit_id": there.id})
    assert r.status_code == 200, r.text
    for unit in (here, there):
        admin = factories.user(session, Role.district_admin, district_id=unit.district_id)
        entries = client_as(admin).get("/api/v1/audit", params={"entity": "user"}).json()["items"]
        assert [(e["action"], e["entity_id"]) for e in entries] == [("update", str(moved.id))]


def test_an_inspector_spanning_districts_is_managed_by_the_city_only(session, client_as):
    mine, other = org.unit(session), org.unit(session)
    admin = factories.user(session, Role.district_admin, district_id=mine.district_id)
    team = factories.user(session, Role.inspector, unit_ids=(mine.id, other.id))
    c = client_as(admin)
    # Each district admin sees the team's units in their own district, no other ids.
    assert c.get(f"{USERS}/{team.id}").json()["unit_ids"] == [mine.id]
    assert_problem(c.patch(f"{USERS}/{team.id}", json={"is_active": False}), 403)
