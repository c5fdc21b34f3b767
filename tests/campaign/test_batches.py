"""Campaigns, batches with their windows and requirements, and enrolment."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.campaign.models import UnitProgress
from tests.auth import factories as users
from tests.campaign import factories
from tests.org import factories as org
from tests.test_http import assert_problem


def _campaign(client) -> int:
    r = client.post("/api/v1/campaigns", json={"name": "保持共产党员先进性教育活动"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_batch_gets_default_requirements_and_reads_back(client):
    cid = _campaign(client)
    w = factories.windows()
    w["evaluation"]["min_coverage"] = 0.9
    r = client.post(
        f"/api/v1/campaigns/{cid}/batches", json={"number": 1, "name": "第一批", "phases": w}
    )
    assert r.status_code == 201, r.text
    phases = {p["phase"]: p for p in r.json()["phases"]}
    assert list(phases) == ["study", "evaluation", "rectification"]
    assert (phases["study"]["min_hours"], phases["study"]["min_coverage"]) == (40, 0.95)
    assert (phases["evaluation"]["min_hours"], phases["evaluation"]["min_coverage"]) == (0, 0.9)
    listed = client.get(f"/api/v1/campaigns/{cid}/batches").json()
    assert listed["total"] == 1 and listed["items"][0]["units"] == 0


def test_bad_windows_and_duplicate_numbers_write_nothing(client):
    cid = _campaign(client)
    w = factories.windows()
    w["study"]["ends_on"] = "2000-01-01"
    problem = assert_problem(
        client.post(
            f"/api/v1/campaigns/{cid}/batches", json={"number": 1, "name": "x", "phases": w}
        ),
        422,
    )
    assert problem["errors"][0]["loc"][:4] == ["body", "phases", "study"]
    w = factories.windows()
    w["evaluation"]["starts_on"] = "2000-01-01"
    w["evaluation"]["ends_on"] = "2000-01-02"
    problem = assert_problem(
        client.post(
            f"/api/v1/campaigns/{cid}/batches", json={"number": 1, "name": "x", "phases": w}
        ),
        422,
    )
    assert problem["errors"][0]["loc"] == ["body", "phases", "evaluation", "starts_on"]
    ok = {"number": 1, "name": "第一批", "phases": factories.windows()}
    assert client.post(f"/api/v1/campaigns/{cid}/batches", json=ok).status_code == 201
    assert_problem(client.post(f"/api/v1/campaigns/{cid}/batches", json=ok), 409)
    assert client.get(f"/api/v1/campaigns/{cid}/batches").json()["total"] == 1


def test_city_changes_requirements_audited_others_may_not(client, client_as, session):
    b = factories.batch(session)
    body = {
        "phases": {"study": {"min_hours": 32, "ends_on": factories.windows()["study"]["ends_on"]}}
    }
    r = client.patch(f"/api/v1/batches/{b.id}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["phases"][0]["min_hours"] == 32
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.entity == "batch"))
    assert (entry.before["study"]["min_hours"], entry.after["study"]["min_hours"]) == ("40.0", "32")
    assert list(entry.after) == ["study"]  # only what changed
    district_admin = users.user(session, Role.district_admin, district_id=org.district(session).id)
    assert_problem(client_as(district_admin).patch(f"/api/v1/batches/{b.id}", json=body), 403)
    bad = {"phases": {"study": {"ends_on": "1999-01-01"}}}
    problem = assert_problem(client.patch(f"/api/v1/batches/{b.id}", json=bad), 422)
    assert problem["errors"][0]["loc"] == ["body", "phases", "study", "ends_on"]


def test_enrol_by_ids_or_district_answers_per_unit(client, session):
    b = factories.batch(session)
    d = org.district(session)
    u1, u2, u3 = (org.unit(session, d.id) for _ in range(3))
    r = client.post(f"/api/v1/batches/{b.id}/units", json={"unit_ids": [u1.id]})
    assert r.status_code == 200, r.text
    assert r.json() == [{"unit_id": u1.id, "status": "enrolled", "batch_id": b.id}]
    r = client.post(f"/api/v1/batches/{b.id}/units", json={"district_id": d.id})
    assert {(x["unit_id"], x["status"]) for x in r.json()} == {
        (u1.id, "already_enrolled"),
        (u2.id, "enrolled"),
        (u3.id, "enrolled"),
    }
    progress = client.get(f"/api/v1/units/{u2.id}/progress").json()
    assert (progress["batch_id"], progress["state"], progress["history"]) == (
        b.id,
        "not_started",
        [],
    )


def test_a_unit_joins_one_batch_and_a_refusal_writes_nothing(client, session):
    first, second = factories.batch(session, 1), factories.batch(session, 2)
    u1, u2 = org.unit(session), org.unit(session)
    client.post(f"/api/v1/batches/{first.id}/units", json={"unit_ids": [u1.id]})
    problem = assert_problem(
        client.post(f"/api/v1/batches/{second.id}/units", json={"unit_ids": [u2.id, u1.id]}), 409
    )
    assert problem["unit_ids"] == [u1.id]
    assert session.scalar(sa.select(sa.func.count()).select_from(UnitProgress)) == 1
    problem = assert_problem(
        client.post(f"/api/v1/batches/{second.id}/units", json={"unit_ids": [u2.id, 999999]}), 422
    )
    assert problem["errors"][0]["loc"] == ["body", "unit_ids", 1]
    assert_problem(client.post(f"/api/v1/batches/{second.id}/units", json={}), 422)


def test_district_admin_enrols_only_their_district(client_as, session):
    b = factories.batch(session)
    mine, other = org.unit(session), org.unit(session)
    admin = users.user(session, Role.district_admin, district_id=mine.district_id)
    c = client_as(admin)
    assert_problem(c.post(f"/api/v1/batches/{b.id}/units", json={"unit_ids": [other.id]}), 422)
    assert_problem(
        c.post(f"/api/v1/batches/{b.id}/units", json={"district_id": other.district_id}), 404
    )
    assert (
        c.post(f"/api/v1/batches/{b.id}/units", json={"district_id": mine.district_id}).status_code
        == 200
    )


def test_a_city_wide_enrolment_is_audited_in_each_district(client, client_as, session):
    b = factories.batch(session)
    east, west = org.district(session), org.district(session)
    e1, e2, w1 = org.unit(session, east.id), org.unit(session, east.id), org.unit(session, west.id)
    r = client.post(f"/api/v1/batches/{b.id}/units", json={"unit_ids": [w1.id, e1.id, e2.id]})
    assert r.status_code == 200, r.text
    for district, units in ((east, [e1.id, e2.id]), (west, [w1.id])):
        admin = client_as(users.user(session, Role.district_admin, district_id=district.id))
        entries = admin.get("/api/v1/audit?limit=100").json()["items"]
        enrolments = [e for e in entries if e["action"] == "enrol"]
        assert [e["after"]["unit_ids"] for e in enrolments] == [units], entries
