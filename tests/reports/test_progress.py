"""The progress report: units per state, overdue and extended units, per batch and district,
checked against a naive count over the units themselves."""

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from app.auth.principal import Role
from app.campaign.enums import UnitState
from app.campaign.models import BatchPhase, UnitProgress
from app.clock import today
from tests.auth import factories as auth
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.test_http import assert_problem

URL = "/api/v1/reports/progress"
STATES = [s.value for s in UnitState]
COUNTED = ("units", *STATES, "overdue", "extended")
PHASES = ("study", "evaluation", "rectification")


@dataclass
class World:
    batches: list
    districts: list
    units: dict  # unit id -> (district id, batch id, state, extended_until)
    branch_of: dict  # unit id -> a branch id


@pytest.fixture
def world(session) -> World:
    """Two batches: the first's study ended 20 days ago (its evaluation is running), the
    second's study is running. Three districts of units in random states and extensions."""
    rng = random.Random(8)
    first = campaign.batch(session, 1, start=today() - timedelta(days=50))
    second = campaign.batch(session, 2)
    districts = [org.district(session) for _ in range(3)]
    units, branch_of = {}, {}
    for n in range(30):
        d = districts[n % 3]
        u = org.unit(session, d.id)
        branch_of[u.id] = org.branch(session, u.id).id
        if n % 7 == 6:
            continue  # enrolled in no batch: counted nowhere
        b = rng.choice([first, second])
        state = rng.choice(STATES)
        extended = None
        if state in PHASES and rng.random() < 0.5:
            extended = today() + timedelta(days=rng.choice([-40, -3, -1, 0, 1, 15]))
        p = campaign.enrol(session, u.id, b.id, state)
        p.extended_until = extended
        session.commit()
        units[u.id] = (d.id, b.id, state, extended)
    return World([first, second], districts, units, branch_of)


def naive(session, world: World, unit_ids: set[int], as_of: date) -> dict:
    """Counts by hand: per (batch, district) a Counter of states, overdue and extended."""
    windows = {(w.batch_id, w.phase): w for w in session.scalars(sa.select(BatchPhase))}
    out: dict = {}
    for unit_id in unit_ids:
        if unit_id not in world.units:
            continue
        district_id, batch_id, state, extended = world.units[unit_id]
        c = out.setdefault((batch_id, district_id), Counter())
        c["units"] += 1
        c[state] += 1
        window = windows.get((batch_id, state))
        if window is not None:
            last = max(window.ends_on, extended) if extended else window.ends_on
            if as_of > last:
                c["overdue"] += 1
                c[f"overdue:{unit_id}:{(as_of - last).days}"] += 1
        if extended is not None:
            c["extended"] += 1
            c[f"extended:{unit_id}:{extended.isoformat()}"] += 1
    return out


def as_reported(body: dict) -> dict:
    out: dict = {}
    for b in body["batches"]:
        total = Counter()
        for row in b["districts"]:
            c = Counter({k: row[k] for k in COUNTED if row[k]})
            out[(b["batch_id"], row["district_id"])] = c
            total.update(c)
        assert total == Counter({k: b["total"][k] for k in COUNTED if b["total"][k]})
        for u in b["overdue_units"]:
            assert u["overdue"] and u["due_on"] is not None
            out[(b["batch_id"], u["district_id"])][
                f"overdue:{u['unit_id']}:{u['days_overdue']}"
            ] += 1
        for u in b["extended_units"]:
            key = f"extended:{u['unit_id']}:{u['extended_until']}"
            out[(b["batch_id"], u["district_id"])][key] += 1
    return out


def test_city_counts_match_a_naive_count(client, session, world):
    r = client.get(URL)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] == today().isoformat()
    assert [b["batch_number"] for b in body["batches"]] == [1, 2]
    assert as_reported(body) == naive(session, world, set(world.units), today())
    # Something of every kind was counted, or the comparison above proves little.
    first = body["batches"][0]
    assert first["total"]["overdue"] > 0 and first["total"]["extended"] > 0
    assert sum(b["total"]["units"] for b in body["batches"]) == len(world.units)
    codes = [d["district_code"] for d in first["districts"]]
    assert codes == sorted(codes)


def test_an_overdue_unit_is_listed_with_its_dates(client, session):
    b = campaign.batch(session, start=today() - timedelta(days=50))  # study ended 21 days ago
    late, extended, fine = (org.unit(session) for _ in range(3))
    campaign.enrol(session, late.id, b.id, "study")
    p = campaign.enrol(session, extended.id, b.id, "study")
    p.extended_until = today() + timedelta(days=5)
    session.commit()
    campaign.enrol(session, fine.id, b.id, "evaluation")
    study = session.get(BatchPhase, (b.id, "study"))
    body = client.get(URL, params={"batch_id": b.id}).json()
    (batch,) = body["batches"]
    assert batch["total"]["units"] == 3 and batch["total"]["study"] == 2
    (overdue,) = batch["overdue_units"]
    assert overdue["unit_id"] == late.id and overdue["unit_code"] == late.code
    assert overdue["due_on"] == study.ends_on.isoformat()
    assert overdue["phase_starts_on"] == study.starts_on.isoformat()
    assert overdue["days_overdue"] == (today() - study.ends_on).days == 21
    (ext,) = batch["extended_units"]
    assert ext["unit_id"] == extended.id and not ext["overdue"] and ext["days_overdue"] == 0
    assert ext["extended_until"] == (today() + timedelta(days=5)).isoformat()


def test_the_last_day_of_a_window_or_extension_is_not_overdue(client, session):
    b = campaign.batch(session, start=today() - timedelta(days=29))  # study ends today
    campaign.enrol(session, org.unit(session).id, b.id, "study")
    ended = campaign.batch(session, 2, start=today() - timedelta(days=40))
    p = campaign.enrol(session, org.unit(session).id, ended.id, "study")
    p.extended_until = today()
    session.commit()
    for batch in client.get(URL).json()["batches"]:
        assert batch["total"]["overdue"] == 0 and batch["overdue_units"] == []


@pytest.mark.parametrize("role", [Role.district_admin, Role.unit_admin, Role.branch_secretary])
def test_each_caller_sees_only_their_part(client_as, session, world, role):
    d = world.districts[1]
    unit_id = next(u for u, v in world.units.items() if v[0] == d.id)
    scope = {
        Role.district_admin: {"district_id": d.id},
        Role.unit_admin: {"unit_id": unit_id},
        Role.branch_secretary: {"branch_id": world.branch_of[unit_id]},
    }[role]
    caller = client_as(auth.user(session, role, **scope))
    visible = (
        {u for u, v in world.units.items() if v[0] == d.id}
        if role is Role.district_admin
        else {unit_id}
    )
    body = caller.get(URL).json()
    assert as_reported(body) == naive(session, world, visible, today())
    assert {row["district_id"] for b in body["batches"] for row in b["districts"]} == {d.id}


def test_an_inspector_sees_their_assigned_units(client_as, session, world):
    assigned = sorted(world.units)[:4]
    caller = client_as(auth.user(session, Role.inspector, unit_ids=tuple(assigned)))
    body = caller.get(URL).json()
    assert as_reported(body) == naive(session, world, set(assigned), today())


def test_filters_by_batch_and_district(client, session, world):
    second, d = world.batches[1], world.districts[2]
    body = client.get(URL, params={"batch_id": second.id, "district_id": d.id}).json()
    assert [b["batch_id"] for b in body["batches"]] == [second.id]
    wanted = {u for u, v in world.units.items() if v[0] == d.id and v[1] == second.id}
    assert as_reported(body) == naive(session, world, wanted, today())
    assert_problem(client.get(URL, params={"batch_id": 999_999}), 404)
    assert_problem(client.get(URL, params={"district_id": 999_999}), 404)


def test_a_district_out_of_scope_is_not_found(client_as, session, world):
    mine, other = world.districts[1], world.districts[2]
    caller = client_as(auth.user(session, Role.district_admin, district_id=mine.id))
    assert caller.get(URL, params={"district_id": mine.id}).status_code == 200
    assert_problem(caller.get(URL, params={"district_id": other.id}), 404)


def test_format_json_is_the_json_answer(client, session, world):
    """As every other report takes it: a client may always send its format."""
    plain = client.get(URL)
    named = client.get(URL, params={"format": "json"})
    assert named.status_code == 200, named.text
    assert named.json() == plain.json()


def test_no_enrolled_unit_no_batch(client, session):
    org.unit(session)
    assert client.get(URL).json()["batches"] == []


def _unit_rows_moved_on(session, world: World) -> None:
    """One unit of each state forced, so every column of the export has a figure."""
    for state, unit_id in zip(STATES, sorted(world.units), strict=False):
        session.get(UnitProgress, unit_id).state = state
    session.commit()


def test_csv_has_chinese_headers_and_a_total_row_per_batch(client, session, world):
    r = client.get(URL, params={"format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert (
        "filename*=UTF-8''%E5%B7%A5%E4%BD%9C%E8%BF%9B%E5%BA%A6" in r.headers["content-disposition"]
    )
    assert r.content.startswith("\ufeff批次,县区编码,县区,单位数,未开始,学习动员".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    body = client.get(URL).json()
    totals = [row for row in rows if row[2] == "合计"]
    assert len(totals) == len(body["batches"])
    for row, b in zip(totals, body["batches"], strict=True):
        assert row[0] == b["batch_name"] and int(row[3]) == b["total"]["units"]
        assert int(row[9]) == b["total"]["overdue"] and int(row[10]) == b["total"]["extended"]


def test_xlsx_has_three_sheets_with_numbers_as_numbers(client, session, world):
    _unit_rows_moved_on(session, world)
    r = client.get(URL, params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    assert book.sheet_names == ["进度汇总", "逾期单位", "延期单位"]
    counts = book.get_sheet_by_name("进度汇总").to_python()
    assert counts[0][:5] == ["批次", "县区编码", "县区", "单位数", "未开始"]
    body = client.get(URL).json()
    total_rows = [row for row in counts[1:] if row[2] == "合计"]
    assert [row[3] for row in total_rows] == [b["total"]["units"] for b in body["batches"]]
    overdue = book.get_sheet_by_name("逾期单位").to_python()
    listed = sum(len(b["overdue_units"]) for b in body["batches"])
    assert len(overdue) == 1 + listed and listed > 0
    assert overdue[0][4:8] == ["所处阶段", "阶段开始", "阶段截止", "延期至"]
    assert isinstance(overdue[1][6], date) and overdue[1][8] == "是"
    extended = book.get_sheet_by_name("延期单位").to_python()
    assert len(extended) == 1 + sum(len(b["extended_units"]) for b in body["batches"])
    assert {row[4] for row in extended[1:]} <= {s.label for s in UnitState}
