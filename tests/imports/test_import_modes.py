"""Upsert, dry runs, the caller's scope, and the one audit entry an import leaves."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.org.models import Member, Unit
from tests.auth import factories as auth
from tests.imports import files
from tests.org import factories as org
from tests.test_http import assert_problem


@pytest.fixture
def branch(session):
    return org.branch(session)


def _count(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


def _codes(response) -> list[tuple[int, str, str]]:
    body = assert_problem(response, 422)
    return [(e["row"], e["column"], e["code"]) for e in body["errors"]]


def test_upsert_updates_changed_members_creates_new_ones_and_counts_the_rest(
    client, session, branch
):
    rows = [files.member(branch.code, n) for n in range(3)]
    assert files.upload(client, files.xlsx(files.table(rows))).status_code == 200
    rows[0] = files.member(branch.code, 0, name="改名", categories="流动党员")
    rows.append(files.member(branch.code, 3))
    r = files.upload(client, files.xlsx(files.table(rows)), mode="upsert")
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("rows", "created", "updated", "unchanged")} == {
        "rows": 4,
        "created": 1,
        "updated": 1,
        "unchanged": 2,
    }
    session.commit()
    changed = session.scalar(sa.select(Member).where(Member.id_number == files.id_number(0)))
    assert (changed.name, changed.is_migrant) == ("改名", True)
    assert changed.updated_at > changed.created_at


def test_upsert_leaves_columns_the_file_does_not_have(client, session, branch):
    org.member(session, branch.id, id_number=files.id_number(1), phone="13900000000")
    org.member(session, branch.id, id_number=files.id_number(2), categories=["retired"])
    header = ["姓名", "性别", "身份证号", "支部编码"]
    rows = [files.member(branch.code, n, name=f"新{n}") for n in (1, 2)]
    r = files.upload(client, files.xlsx(files.table(rows, header)), mode="upsert")
    assert r.json()["updated"] == 2, r.text
    session.commit()
    one, two = session.scalars(sa.select(Member).order_by(Member.id))
    assert (one.name, one.phone, two.name, two.is_retired) == ("新1", "13900000000", "新2", True)


def test_upsert_does_not_move_a_member_to_another_branch(client, session, branch):
    other = org.branch(session, branch.unit_id)
    org.member(session, branch.id, id_number=files.id_number(1))
    rows = [files.member(other.code, 1)]
    response = files.upload(client, files.xlsx(files.table(rows)), mode="upsert")
    assert _codes(response) == [(2, "支部编码", "different_branch")]
    assert branch.code in response.json()["errors"][0]["message"]


def test_upsert_checks_dates_against_the_registered_ones(client, session, branch):
    org.member(session, branch.id, id_number=files.id_number(1), birth_date=date(1990, 1, 1))
    header = ["姓名", "性别", "身份证号", "支部编码", "入党日期"]
    rows = [files.member(branch.code, 1, joined_on="1980-07-01")]
    response = files.upload(client, files.xlsx(files.table(rows, header)), mode="upsert")
    assert _codes(response) == [(2, "入党日期", "joined_before_birth")]
    assert "1990-01-01" in response.json()["errors"][0]["message"]


def test_upsert_names_the_date_column_the_file_has(client, session, branch):
    """A file with the birth date only clashes with the registered joining date: the error is
    on the column the person fixing the file can see, with its value."""
    org.member(
        session,
        branch.id,
        id_number=files.id_number(1),
        birth_date=date(1970, 1, 1),
        joined_on=date(1995, 7, 1),
    )
    header = ["姓名", "性别", "身份证号", "支部编码", "出生日期"]
    rows = [files.member(branch.code, 1, birth_date="2000-01-01")]
    response = files.upload(client, files.xlsx(files.table(rows, header)), mode="upsert")
    assert _codes(response) == [(2, "出生日期", "joined_before_birth")]
    error = response.json()["errors"][0]
    assert error["value"] == "2000-01-01" and "1995-07-01" in error["message"]


def test_create_refuses_a_registered_id_number(client, session, branch):
    org.member(session, branch.id, id_number=files.id_number(1))
    rows = [files.member(branch.code, 0), files.member(branch.code, 1)]
    response = files.upload(client, files.xlsx(files.table(rows)))
    assert _codes(response) == [(3, "身份证号", "already_registered")]
    assert "mode=upsert" in response.json()["errors"][0]["message"]
    assert _count(session) == 1


def test_dry_run_counts_what_would_happen_and_writes_nothing(client, session, branch):
    org.member(session, branch.id, id_number=files.id_number(1), name="旧名")
    rows = [files.member(branch.code, n) for n in range(3)]
    r = files.upload(client, files.xlsx(files.table(rows)), mode="upsert", dry_run=True)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("dry_run", "created", "updated", "unchanged")} == {
        "dry_run": True,
        "created": 2,
        "updated": 1,
        "unchanged": 0,
    }
    assert _count(session) == 1
    assert session.scalar(sa.select(Member.name)) == "旧名"
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    # A dry run refuses what the import would refuse.
    r = files.upload(client, files.xlsx(files.table(rows)), dry_run=True)
    assert _codes(r) == [(3, "身份证号", "already_registered")]


def test_an_import_is_one_audit_entry_with_file_mode_and_counts(client, session, branch):
    rows = [files.member(branch.code, n) for n in range(50)]
    assert (
        files.upload(client, files.xlsx(files.table(rows)), name="一支部.xlsx").status_code == 200
    )
    session.commit()
    (entry,) = session.scalars(sa.select(AuditEntry))
    assert (entry.username, entry.action, entry.entity, entry.entity_id) == (
        "city",
        "import",
        "member",
        None,
    )
    assert entry.after == {
        "file_name": "一支部.xlsx",
        "mode": "create",
        "rows": 50,
        "created": 50,
        "updated": 0,
        "unchanged": 0,
    }
    assert entry.district_id == session.get(Unit, branch.unit_id).district_id
    assert entry.request_id


def test_a_district_admin_imports_inside_the_district_only(client_as, session, branch):
    district_id = session.get(Unit, branch.unit_id).district_id
    elsewhere = org.branch(session)
    admin = auth.user(session, Role.district_admin, district_id=district_id)
    rows = [files.member(branch.code, 1), files.member(elsewhere.code, 2)]
    response = files.upload(client_as(admin), files.xlsx(files.table(rows)))
    # Outside the scope is, to the caller, a branch that does not exist.
    assert _codes(response) == [(3, "支部编码", "unknown_branch")]
    assert _count(session) == 0

    r = files.upload(client_as(admin), files.xlsx(files.table(rows[:1])))
    assert r.status_code == 200, r.text
    session.commit()
    assert session.scalar(sa.select(AuditEntry.district_id)) == district_id


def test_a_member_registered_outside_the_scope_is_an_error_in_either_mode(
    client_as, session, branch
):
    elsewhere = org.branch(session)
    org.member(session, elsewhere.id, id_number=files.id_number(1))
    secretary = auth.user(session, Role.branch_secretary, branch_id=branch.id)
    for mode in ("create", "upsert"):
        response = files.upload(
            client_as(secretary),
            files.xlsx(files.table([files.member(branch.code, 1)])),
            mode=mode,
        )
        assert _codes(response) == [(2, "身份证号", "registered_elsewhere")], mode
        assert elsewhere.code not in response.text


def test_a_secretary_imports_into_the_own_branch(client_as, session, branch):
    secretary = auth.user(session, Role.branch_secretary, branch_id=branch.id)
    rows = [files.member(branch.code, n) for n in range(3)]
    assert files.upload(client_as(secretary), files.xlsx(files.table(rows))).status_code == 200
    assert _count(session) == 3


def test_an_inspector_may_not_import(client_as, session, branch):
    inspector = auth.user(session, Role.inspector, unit_ids=(branch.unit_id,))
    rows = [files.member(branch.code, 1)]
    body = assert_problem(files.upload(client_as(inspector), files.xlsx(files.table(rows))), 403)
    assert "write member" in body["detail"]
    assert _count(session) == 0
