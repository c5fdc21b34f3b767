"""Inspections: who records them where, findings opening rectification items in the same
call (all or nothing), reading them, and the inspection report against a naive count."""

import codecs
import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.clock import today
from app.inspection.models import Inspection, InspectionFinding
from app.rectification.models import RectificationItem
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.rectification import factories
from tests.test_http import assert_problem

TABLES = (Inspection, InspectionFinding, RectificationItem, AuditEntry)


@pytest.fixture
def units(session):
    b = campaign.batch(session)
    u, other = org.unit(session), org.unit(session)
    campaign.enrol(session, u.id, b.id, "evaluation")
    return u, other


def _counts(session):
    session.commit()
    return [session.scalar(sa.select(sa.func.count()).select_from(t)) for t in TABLES]


def _body(unit_id, **over):
    deadline = (today() + timedelta(days=30)).isoformat()
    return {
        "unit_id": unit_id,
        "inspected_on": today().isoformat(),
        "team": ["王组长", "赵组员"],
        "assessment": "fair",
        "summary": "学习动员扎实，分析评议环节个别支部流于形式",
        "findings": [
            {"text": "个别支部民主评议未逐人进行", "severity": "medium"},
            {
                "text": "整改台账不完整",
                "severity": "high",
                "open_rectification": {
                    "measures": "建立整改台账",
                    "owner": "单位党委",
                    "deadline": deadline,
                },
            },
        ],
        **over,
    }


def test_an_inspector_records_for_an_assigned_unit_and_a_finding_opens_an_item(
    session, client_as, units
):
    u, _ = units
    inspector = client_as(users.user(session, Role.inspector, unit_ids=(u.id,)))
    r = inspector.post("/api/v1/inspections", json=_body(u.id), headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["assessment"], body["team"]) == ("fair", ["王组长", "赵组员"])
    first, second = body["findings"]
    assert (first["position"], first["rectification_id"]) == (0, None)
    item = inspector.get(f"/api/v1/rectifications/{second['rectification_id']}").json()
    assert (item["source"], item["problem"], item["status"], item["phase"]) == (
        "inspection",
        "整改台账不完整",
        "open",
        "evaluation",
    )
    assert item["source_ref"] == f"inspection:{body['id']}/finding:{second['id']}"
    again = inspector.post(
        "/api/v1/inspections", json=_body(u.id), headers={"Idempotency-Key": "k1"}
    )
    assert again.json()["id"] == body["id"]
    assert _counts(session)[:3] == [1, 2, 1]
    actions = session.scalars(sa.select(AuditEntry.entity).order_by(AuditEntry.id)).all()
    assert sorted(actions) == ["inspection", "rectification"]
    assert inspector.get(f"/api/v1/inspections/{body['id']}").json() == body


def test_a_unit_not_assigned_is_404_and_nothing_is_written(session, client_as, units):
    u, other = units
    inspector = client_as(users.user(session, Role.inspector, unit_ids=(u.id,)))
    problem = assert_problem(inspector.post("/api/v1/inspections", json=_body(other.id)), 404)
    assert str(other.id) in problem["detail"]
    assert _counts(session) == [0, 0, 0, 0]


def test_a_bad_rectification_in_the_last_finding_writes_nothing_at_all(session, client, units):
    u, _ = units
    body = _body(u.id)
    body["findings"][1]["open_rectification"]["deadline"] = (
        today() - timedelta(days=1)
    ).isoformat()
    problem = assert_problem(client.post("/api/v1/inspections", json=body), 422)
    assert problem["errors"][0]["loc"] == ["body", "findings", 1, "open_rectification", "deadline"]
    assert _counts(session) == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"inspected_on": (today() + timedelta(days=1)).isoformat()}, ["body", "inspected_on"]),
        ({"assessment": "excellent"}, ["body", "assessment"]),
        ({"team": []}, ["body", "team"]),
        # Text in a list is held to what text is: a NUL answers alike on both databases.
        ({"team": ["王组长", "李\x00"]}, ["body", "team"]),
        (
            {"findings": [{"text": "x", "severity": "critical"}]},
            ["body", "findings", 0, "severity"],
        ),
    ],
)
def test_bad_input_names_the_field(session, client, units, change, where):
    u, _ = units
    problem = assert_problem(client.post("/api/v1/inspections", json=_body(u.id, **change)), 422)
    assert problem["errors"][0]["loc"] == where
    assert _counts(session) == [0, 0, 0, 0]


def test_who_may_record(session, client_as, units):
    u, other = units
    district_admin = client_as(users.user(session, Role.district_admin, district_id=u.district_id))
    assert district_admin.post("/api/v1/inspections", json=_body(u.id)).status_code == 201
    assert_problem(district_admin.post("/api/v1/inspections", json=_body(other.id)), 404)
    unit_admin = client_as(users.user(session, Role.unit_admin, unit_id=u.id))
    assert_problem(unit_admin.post("/api/v1/inspections", json=_body(u.id)), 403)
    assert _counts(session)[0] == 1


def test_who_reads_which_inspections_and_filters(session, client, client_as, units):
    u, other = units
    old = factories.inspection(session, u.id, on=today() - timedelta(days=10), assessment="poor")
    new = factories.inspection(session, u.id, assessment="good")
    theirs = factories.inspection(session, other.id)

    def ids(c, **params):
        r = c.get("/api/v1/inspections", params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(client) == [theirs.id, new.id, old.id]  # newest visit first
    unit_admin = client_as(users.user(session, Role.unit_admin, unit_id=u.id))
    assert ids(unit_admin) == [new.id, old.id]
    inspector = client_as(users.user(session, Role.inspector, unit_ids=(other.id,)))
    assert ids(inspector) == [theirs.id]
    assert_problem(inspector.get(f"/api/v1/inspections/{old.id}"), 404)
    assert ids(client, assessment="poor") == [old.id]
    assert ids(client, unit_id=u.id, inspected_to=(today() - timedelta(days=1)).isoformat()) == [
        old.id
    ]
    assert set(ids(client, district_id=other.district_id)) == {theirs.id}


def test_the_report_counts_units_inspected_per_district_and_names_the_others(
    session, client, client_as
):
    b = campaign.batch(session)
    d1, d2 = org.district(session), org.district(session)
    units = [org.unit(session, (d1 if i < 4 else d2).id) for i in range(6)]
    for u in units[:5]:
        campaign.enrol(session, u.id, b.id, "study")
    visits = {units[0].id: 3, units[1].id: 1, units[4].id: 2}
    last = {}
    for unit_id, n in visits.items():
        for k in range(n):
            on = today() - timedelta(days=k * 7 + unit_id % 3)
            factories.inspection(session, unit_id, on=on)
            last[unit_id] = max(last.get(unit_id, on), on)

    r = client.get("/api/v1/reports/inspections").json()
    rows = {row["id"]: row for row in r["rows"]}
    for d in (d1, d2):
        mine = [u for u in units if u.district_id == d.id]
        inspected = [u for u in mine if u.id in visits]
        assert rows[d.id]["units"] == len(mine)
        assert rows[d.id]["inspected_units"] == len(inspected)
        assert rows[d.id]["never_inspected"] == len(mine) - len(inspected)
        assert rows[d.id]["inspections"] == sum(visits[u.id] for u in inspected)
        assert rows[d.id]["last_inspected_on"] == max(last[u.id] for u in inspected).isoformat()
    assert r["total"]["inspections"] == 6 and r["total"]["units"] == 6
    never = [x["unit_id"] for x in r["never_inspected"]]
    assert sorted(never) == sorted(u.id for u in units if u.id not in visits)
    states = {x["unit_id"]: x["state"] for x in r["never_inspected"]}
    assert states[units[5].id] is None and states[units[2].id] == "study"

    enrolled = client.get("/api/v1/reports/inspections", params={"batch_id": b.id}).json()
    assert enrolled["total"]["units"] == 5
    assert units[5].id not in [x["unit_id"] for x in enrolled["never_inspected"]]

    admin = client_as(users.user(session, Role.district_admin, district_id=d2.id))
    r = admin.get("/api/v1/reports/inspections").json()
    assert [row["id"] for row in r["rows"]] == [d2.id]
    assert [x["unit_id"] for x in r["never_inspected"]] == [units[5].id]


def test_the_report_of_a_district_out_of_scope_or_an_unknown_batch_is_404(
    session, client, client_as
):
    b = campaign.batch(session)
    mine, theirs = org.unit(session), org.unit(session)
    admin = client_as(users.user(session, Role.district_admin, district_id=mine.district_id))
    # An empty report would read as one with nothing inspected.
    for c, params in (
        (admin, {"district_id": theirs.district_id}),
        (client, {"district_id": 10**9}),
        (client, {"batch_id": 10**9}),
    ):
        assert_problem(c.get("/api/v1/reports/inspections", params=params), 404)
    r = admin.get(
        "/api/v1/reports/inspections", params={"district_id": mine.district_id, "batch_id": b.id}
    )
    assert r.status_code == 200, r.text


def test_the_report_as_csv_and_xlsx(session, client):
    d = org.district(session)
    inspected, never = org.unit(session, d.id), org.unit(session, d.id)
    factories.inspection(session, inspected.id)
    r = client.get("/api/v1/reports/inspections", params={"format": "csv"})
    assert r.status_code == 200 and r.content.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0][:5] == ["编码", "县区", "单位数", "已检查单位", "未检查单位"]
    assert lines[1][2:5] == ["2", "1", "1"] and lines[-1][1] == "合计"
    r = client.get("/api/v1/reports/inspections", params={"format": "xlsx"})
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    assert book.sheet_names == ["督导检查情况", "未检查单位"]
    rows = book.get_sheet_by_name("未检查单位").to_python()
    assert [row[2] for row in rows[1:]] == [never.name]
