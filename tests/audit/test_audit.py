"""The audit log: one row per write, in the write's transaction, readable by scope."""

import logging
from datetime import date

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from tests.auth import factories
from tests.org import factories as org
from tests.test_http import assert_problem

AUDIT = "/api/v1/audit"


def test_the_audit_shows_who_changed_a_member_from_which_request(client, session, city_admin):
    m = org.member(session)
    r = client.patch(
        f"/api/v1/members/{m.id}",
        json={"name": "改名", "categories": ["retired"]},
        headers={"X-Request-ID": "req-42"},
    )
    assert r.status_code == 200, r.text
    entries = client.get(f"{AUDIT}?entity=member&entity_id={m.id}").json()["items"]
    assert len(entries) == 1
    e = entries[0]
    assert (e["username"], e["user_id"], e["action"]) == ("city", city_admin.id, "update")
    assert e["request_id"] == "req-42"
    assert e["before"] == {"name": m.name, "categories": []}
    assert e["after"] == {"name": "改名", "categories": ["retired"]}


def test_personal_data_is_masked_in_the_audit(client, session):
    b = org.branch(session)
    idn = org.id_number(date(1960, 2, 3))
    body = {"name": "王芳", "gender": "female", "branch_id": b.id, "id_number": idn}
    body["phone"] = "13912345678"
    created = client.post("/api/v1/members", json=body).json()
    row = session.scalar(sa.select(AuditEntry).where(AuditEntry.entity_id == str(created["id"])))
    assert row.after["id_number"] == idn[:3] + "*" * 11 + idn[-4:]
    assert row.after["phone"] == "139****5678"


def test_a_refused_write_leaves_no_audit_row(client, session):
    u = org.unit(session)
    r = client.post("/api/v1/branches", json={"code": "B1", "name": "一支部", "unit_id": u.id})
    assert r.status_code == 201
    assert_problem(
        client.post("/api/v1/branches", json={"code": "B1", "name": "x", "unit_id": u.id}), 409
    )
    assert client.patch(f"/api/v1/units/{u.id}", json={"name": u.name}).status_code == 200
    actions = session.scalars(sa.select(AuditEntry.action)).all()
    assert actions == ["create"]  # the duplicate wrote nothing; the no-op PATCH changed nothing


def test_transfer_is_audited_with_both_branches(client, session):
    m = org.member(session)
    target = org.branch(session)
    client.post(
        f"/api/v1/members/{m.id}/transfer", json={"branch_id": target.id, "reason": "工作调动"}
    )
    row = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "transfer"))
    assert row.before == {"branch_id": m.branch_id, "reason": None}
    assert row.after == {"branch_id": target.id, "reason": "工作调动"}


def test_district_admins_read_their_district_and_others_none(client, client_as, session):
    mine, other = org.unit(session), org.unit(session)
    for u in (mine, other):
        client.patch(f"/api/v1/units/{u.id}", json={"name": u.name + "（改）"})
    admin = factories.user(session, Role.district_admin, district_id=mine.district_id)
    seen = client_as(admin).get(AUDIT).json()
    assert seen["total"] == 1 and seen["items"][0]["entity_id"] == str(mine.id)
    assert client.get(AUDIT).json()["total"] == 2
    secretary = factories.user(
        session, Role.branch_secretary, branch_id=org.branch(session, mine.id).id
    )
    assert_problem(client_as(secretary).get(AUDIT), 403)


def test_filters_by_action_user_and_time(client, session, city_admin):
    m = org.member(session)
    client.patch(f"/api/v1/members/{m.id}", json={"name": "甲"})
    assert client.get(f"{AUDIT}?action=update&user_id={city_admin.id}").json()["total"] == 1
    assert client.get(f"{AUDIT}?action=create").json()["total"] == 0
    assert client.get(f"{AUDIT}?since=2999-01-01T00:00:00Z").json()["total"] == 0
    assert client.get(f"{AUDIT}?until=2999-01-01T00:00:00%2B08:00").json()["total"] == 1
    assert_problem(client.get(f"{AUDIT}?since=2020-01-01T00:00:00"), 422)  # no zone: ambiguous


def test_personal_data_never_reaches_the_logs(client, session, caplog):
    """Every server-side logger at DEBUG, and SQLAlchemy's statement log (with parameters)
    at INFO, the most an operator turns on to see SQL."""
    b = org.branch(session)
    idn = org.id_number(date(1975, 6, 7))
    phone = "13787654321"
    caplog.set_level(logging.DEBUG)
    sql_log = logging.getLogger("sqlalchemy.engine")
    sql_log.setLevel(logging.INFO)
    # The test client's own request log is the caller's, not the service's.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        body = {"name": "李娜", "gender": "female", "branch_id": b.id}
        body |= {"id_number": idn, "phone": phone}
        assert client.post("/api/v1/members", json=body).status_code == 201
        assert_problem(client.post("/api/v1/members", json=body), 409)  # duplicate ID number
        assert client.get(f"/api/v1/members?q={idn}").status_code == 200  # pasted in a search
        bad = body | {"id_number": idn[:-1] + ("0" if idn[-1] != "0" else "1")}
        assert_problem(client.post("/api/v1/members", json=bad), 422)
    finally:
        sql_log.setLevel(logging.WARNING)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert any("INSERT INTO member" in r.getMessage() for r in caplog.records)
    for raw in (idn, phone, idn[:-1]):
        assert raw not in caplog.text


def test_the_access_log_drops_query_strings():
    from app.logs import DropQueryString

    args = ("1.2.3.4:5", "GET", "/api/v1/members?q=13812345678", "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
    )
    assert DropQueryString().filter(record)
    assert "13812345678" not in record.getMessage() and "/api/v1/members" in record.getMessage()
