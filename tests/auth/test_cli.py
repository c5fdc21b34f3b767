"""The command line's accounts: create-user for the first admin, and the demo's users."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.models import InspectorUnit, User
from app.cli import cli
from tests.org import factories as org

PASSWORD = "first admin's password"


def _log_in(anon, username: str, password: str):
    return anon.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_create_user_makes_the_first_admin(cli_runner, anon, session):
    r = cli_runner.invoke(
        cli,
        ["create-user", "Admin", "--role", "city_admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    assert _log_in(anon, "admin", PASSWORD).status_code == 200
    entry = session.scalar(sa.select(AuditEntry))
    assert (entry.username, entry.action, entry.entity) == ("system", "create", "user")


def test_create_user_resolves_codes_and_refuses_bad_input(cli_runner, session):
    b = org.branch(session)
    u1, u2 = org.unit(session), org.unit(session)
    ok = cli_runner.invoke(
        cli,
        [
            "create-user",
            "sec",
            "--role",
            "branch_secretary",
            "--branch",
            b.code,
            "--password-stdin",
        ],
        input=PASSWORD,
    )
    assert ok.exit_code == 0, ok.output
    assert session.scalar(sa.select(User.branch_id).where(User.username == "sec")) == b.id
    session.commit()  # end the read: the command writes from another connection
    team = ["create-user", "team", "--role", "inspector", "--unit", u1.code, "--unit", u2.code]
    assert cli_runner.invoke(cli, [*team, "--password-stdin"], input=PASSWORD).exit_code == 0
    assert set(session.scalars(sa.select(InspectorUnit.unit_id))) == {u1.id, u2.id}
    session.commit()

    for args, stdin, says in (
        (["x1x", "--role", "city_admin"], "short", "at least 10"),
        (["x2x", "--role", "branch_secretary", "--branch", "NOPE"], PASSWORD, "NOPE"),
        (["x3x", "--role", "unit_admin"], PASSWORD, "unit_id"),
        (["sec", "--role", "city_admin"], PASSWORD, "taken"),
    ):
        r = cli_runner.invoke(cli, ["create-user", *args, "--password-stdin"], input=stdin)
        assert r.exit_code == 1, r.output
        assert says in r.output
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_the_demo_has_one_user_per_role_who_can_log_in(cli_runner, anon, session):
    first = cli_runner.invoke(cli, ["demo", "--scale", "0.01"])
    assert first.exit_code == 0, first.output
    assert "demo_branch_secretary" in first.output and "demo-branch-secretary" in first.output
    again = cli_runner.invoke(cli, ["demo", "--scale", "0.01"])
    assert again.exit_code == 0 and "demo_city_admin" in again.output
    users = session.scalars(sa.select(User).order_by(User.id)).all()
    assert [u.role for u in users] == [
        "city_admin",
        "district_admin",
        "unit_admin",
        "branch_secretary",
        "inspector",
    ]
    tokens = {}
    for u in users:
        r = _log_in(anon, u.username, "demo-" + u.role.replace("_", "-"))
        assert r.status_code == 200, r.text
        tokens[u.role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    secretary = next(u for u in users if u.role == "branch_secretary")
    members = anon.get("/api/v1/members?limit=500", headers=tokens["branch_secretary"]).json()
    assert members["total"] > 0
    assert {m["branch_id"] for m in members["items"]} == {secretary.branch_id}
    district = next(u for u in users if u.role == "district_admin")
    units = anon.get("/api/v1/units?limit=500", headers=tokens["district_admin"]).json()
    assert {x["district_id"] for x in units["items"]} == {district.district_id}
    assert units["total"] < anon.get("/api/v1/units", headers=tokens["city_admin"]).json()["total"]


def test_the_demo_plants_no_users_in_a_database_with_data_of_its_own(cli_runner, session):
    org.district(session)
    r = cli_runner.invoke(cli, ["demo", "--scale", "0.01"])
    assert r.exit_code == 0, r.output
    assert "wrote nothing" in r.output and "demo_city_admin" not in r.output
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
