"""The rectification report's numbers against a naive count over the items in Python."""

import codecs
import csv
import io
import random
from collections import Counter
from datetime import timedelta

import pytest
from python_calamine import CalamineWorkbook

from app.auth.principal import Role
from app.clock import today
from app.rectification.enums import RectificationStatus
from tests.auth import factories as users
from tests.org import factories as org
from tests.rectification import factories
from tests.test_http import assert_problem

STATUSES = [s.value for s in RectificationStatus]
SOURCES = ["look_back", "evaluation", "inspection", "public_feedback", "self_found"]


@pytest.fixture
def items(session):
    """Three districts, seven units (one without items), forty items of every kind."""
    rng = random.Random(9)
    districts = [org.district(session) for _ in range(3)]
    units = [org.unit(session, districts[i % 3].id) for i in range(7)]
    made = []
    for _ in range(40):
        u = rng.choice(units[:-1])
        made.append(
            factories.item(
                session,
                u.id,
                status=rng.choice(STATUSES),
                source=rng.choice(SOURCES),
                deadline=today() + timedelta(days=rng.randint(-20, 20)),
            )
        )
    return districts, units, made


def _naive(items, key):
    """Per key: items, each status, overdue, counted one item at a time."""
    out: dict = {}
    for i in items:
        c = out.setdefault(key(i), Counter())
        c["items"] += 1
        c[i.status] += 1
        if i.deadline < today() and i.status in ("open", "in_progress"):
            c["overdue"] += 1
    return out


def _counts(row):
    return Counter({k: row[k] for k in ("items", *STATUSES, "overdue") if row[k]})


def test_every_level_matches_a_naive_count(client, items):
    districts, units, made = items
    unit_district = {u.id: u.district_id for u in units}
    by_district = _naive(made, lambda i: unit_district[i.unit_id])
    r = client.get("/api/v1/reports/rectifications", params={"level": "district"}).json()
    assert [row["id"] for row in r["rows"]] == [d.id for d in districts]
    for row in r["rows"]:
        assert _counts(row) == by_district.get(row["id"], Counter()), row
    city = _naive(made, lambda i: None)[None]
    assert _counts(r["total"]) == city

    by_unit = _naive(made, lambda i: i.unit_id)
    r = client.get("/api/v1/reports/rectifications", params={"level": "unit"}).json()
    assert {row["id"]: _counts(row) for row in r["rows"]} == by_unit  # units with items

    r = client.get("/api/v1/reports/rectifications", params={"level": "city"}).json()
    assert [_counts(row) for row in r["rows"]] == [city]
    overdue = sorted(
        (i for i in made if i.deadline < today() and i.status in ("open", "in_progress")),
        key=lambda i: (i.deadline, i.id),
    )
    assert r["overdue_total"] == len(overdue) == city["overdue"]
    assert [i["id"] for i in r["overdue_items"]] == [i.id for i in overdue]
    assert all(
        x["days_overdue"] == (today() - i.deadline).days
        for x, i in zip(r["overdue_items"], overdue, strict=True)
    )


def test_filters_and_a_district_admin_sees_their_district_only(client, client_as, session, items):
    districts, units, made = items
    unit_district = {u.id: u.district_id for u in units}
    d = districts[1]
    admin = client_as(users.user(session, Role.district_admin, district_id=d.id))
    mine = [i for i in made if unit_district[i.unit_id] == d.id]
    r = admin.get("/api/v1/reports/rectifications", params={"level": "unit"}).json()
    assert {row["id"]: _counts(row) for row in r["rows"]} == _naive(mine, lambda i: i.unit_id)
    r = admin.get("/api/v1/reports/rectifications").json()
    assert [row["id"] for row in r["rows"]] == [d.id]
    assert {x["district_id"] for x in r["overdue_items"]} <= {d.id}

    picked = [i for i in made if i.source == "evaluation"]
    r = client.get("/api/v1/reports/rectifications", params={"source": "evaluation"}).json()
    assert _counts(r["total"]) == _naive(picked, lambda i: None).get(None, Counter())
    r = client.get(
        "/api/v1/reports/rectifications", params={"district_id": d.id, "level": "unit"}
    ).json()
    assert {row["id"] for row in r["rows"]} == {i.unit_id for i in mine}


def test_a_district_or_unit_out_of_scope_or_unknown_is_404(client, client_as, session, items):
    _districts, units, _made = items
    mine, theirs = units[0], next(u for u in units if u.district_id != units[0].district_id)
    district_admin = client_as(
        users.user(session, Role.district_admin, district_id=mine.district_id)
    )
    unit_admin = client_as(users.user(session, Role.unit_admin, unit_id=mine.id))
    # An empty report would read as one with no items.
    for c, params in (
        (district_admin, {"district_id": theirs.district_id}),
        (district_admin, {"unit_id": theirs.id, "level": "unit"}),
        (unit_admin, {"unit_id": theirs.id, "level": "unit"}),
        (unit_admin, {"district_id": theirs.district_id}),
        (client, {"district_id": 10**9}),
        (client, {"unit_id": 10**9}),
    ):
        assert_problem(c.get("/api/v1/reports/rectifications", params=params), 404)
    r = unit_admin.get("/api/v1/reports/rectifications", params={"unit_id": mine.id})
    assert r.status_code == 200, r.text


def test_an_inspector_reads_only_the_units_assigned(client_as, session, items):
    _districts, units, made = items
    inspector = client_as(users.user(session, Role.inspector, unit_ids=(units[0].id,)))
    r = inspector.get("/api/v1/reports/rectifications", params={"level": "unit"}).json()
    expected = _naive([i for i in made if i.unit_id == units[0].id], lambda i: i.unit_id)
    assert {row["id"]: _counts(row) for row in r["rows"]} == expected


def test_csv_and_xlsx_with_chinese_headers_and_labels(client, items):
    _districts, _units, made = items
    r = client.get("/api/v1/reports/rectifications", params={"level": "unit", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0] == ["编码", "名称", "整改事项", "待整改", "整改中", "已整改", "已验收", "逾期"]
    assert lines[-1][1] == "合计" and int(lines[-1][2]) == len(made)

    r = client.get("/api/v1/reports/rectifications", params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    assert book.sheet_names == ["整改情况-县区", "逾期事项"]
    overdue = book.get_sheet_by_name("逾期事项").to_python()
    body = client.get("/api/v1/reports/rectifications").json()
    assert len(overdue) == 1 + body["overdue_total"]
    assert {row[5] for row in overdue[1:]} <= {"待整改", "整改中"}
    assert [row[6] for row in overdue[1:]] == [x["days_overdue"] for x in body["overdue_items"]]
