"""The evaluation report against a naive count over the rows, at every level and scope."""

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass, field

import pytest
from python_calamine import CalamineWorkbook

from app.auth.principal import Role
from app.campaign.models import MemberExemption
from app.evaluation.enums import Rating
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.evaluation import factories
from tests.org import factories as org
from tests.test_http import assert_problem

DUE = ("evaluation", "rectification", "completed")
STATES = (None, "not_started", "study", *DUE, *DUE)  # None: not enrolled
FIGURES = ("members", "exempted", "evaluated", *Rating.codes())


@dataclass
class World:
    batches: list
    districts: list = field(default_factory=list)
    units: dict = field(default_factory=dict)  # id -> (unit, batch_id or None, state)
    branches: dict = field(default_factory=dict)  # id -> branch
    members: dict = field(default_factory=dict)  # id -> member
    exempt: set = field(default_factory=set)  # (member_id, batch_id, phase)
    ratings: dict = field(default_factory=dict)  # (batch_id, member_id) -> rating


def build(session, seed: int) -> World:
    rng = random.Random(seed)
    w = World(batches=[campaign.batch(session, number=n) for n in (1, 2)])
    for _ in range(3):
        d = org.district(session)
        w.districts.append(d)
        for _ in range(rng.randint(2, 4)):
            u = org.unit(session, d.id)
            state = rng.choice(STATES)
            batch_id = rng.choice(w.batches).id if state else None
            if state:
                campaign.enrol(session, u.id, batch_id, state)
            w.units[u.id] = (u, batch_id, state)
            for _ in range(rng.randint(1, 3)):
                br = org.branch(session, u.id)
                w.branches[br.id] = br
                for _ in range(rng.randint(0, 6)):
                    status = "active" if rng.random() < 0.85 else "transferred_out"
                    m = org.member(session, br.id, status=status)
                    w.members[m.id] = m
                    for b in w.batches:
                        phase = rng.choice(("evaluation", "study", None, None, None, None))
                        if phase:
                            session.add(
                                MemberExemption(
                                    member_id=m.id, batch_id=b.id, phase=phase, reason="other"
                                )
                            )
                            w.exempt.add((m.id, b.id, phase))
                        if rng.random() < 0.5:
                            rating = rng.choice(Rating.codes())
                            factories.evaluate(session, m.id, b.id, rating)
                            w.ratings[(b.id, m.id)] = rating
    session.commit()
    return w


def naive(w: World, level: str, *, batch_id=None, keep=lambda unit, branch: True) -> dict:
    """Per row key, the figures, from the raw rows in Python."""
    rows: dict = {}
    if level == "city":
        rows[None] = Counter(dict.fromkeys(FIGURES, 0))
    for br in w.branches.values():
        unit, unit_batch, state = w.units[br.unit_id]
        if state not in DUE or (batch_id and unit_batch != batch_id) or not keep(unit, br):
            continue
        key = {"city": None, "district": unit.district_id, "unit": unit.id, "branch": br.id}
        row = rows.setdefault(key[level], Counter(dict.fromkeys(FIGURES, 0)))
        for m in w.members.values():
            if m.branch_id != br.id or m.status != "active":
                continue
            if (m.id, unit_batch, "evaluation") in w.exempt:
                row["exempted"] += 1
                continue
            row["members"] += 1
            rating = w.ratings.get((unit_batch, m.id))
            if rating:
                row["evaluated"] += 1
                row[rating] += 1
    return {k: {f: v[f] for f in FIGURES} for k, v in rows.items()}


def answered(body: dict) -> dict:
    return {r["id"]: {f: r[f] for f in FIGURES} for r in body["rows"]}


def check_row_arithmetic(body: dict) -> None:
    for r in [*body["rows"], body["total"]]:
        assert r["not_evaluated"] == r["members"] - r["evaluated"]
        assert r["evaluated"] == sum(r[x] for x in Rating.codes())
        share = r["evaluated_share"]
        assert share == (round(r["evaluated"] / r["members"], 4) if r["members"] else None)
    shares = [(r["evaluated_share"] is None, r["evaluated_share"] or 0) for r in body["rows"]]
    assert shares == sorted(shares)
    for f in FIGURES:
        assert body["total"][f] == sum(r[f] for r in body["rows"])


@pytest.mark.parametrize("seed", [3, 11])
def test_every_level_equals_the_naive_count(client, session, seed):
    w = build(session, seed)
    city = naive(w, "city")[None]
    # A world worth comparing: members evaluated, not evaluated and exempted, every rating.
    assert city["exempted"] and 0 < city["evaluated"] < city["members"]
    assert all(city[r] for r in Rating.codes())
    for level in ("city", "district", "unit", "branch"):
        r = client.get("/api/v1/reports/evaluations", params={"level": level})
        assert r.status_code == 200, r.text
        body = r.json()
        assert answered(body) == naive(w, level), level
        check_row_arithmetic(body)
    for b in w.batches:
        body = client.get(
            "/api/v1/reports/evaluations", params={"level": "unit", "batch_id": b.id}
        ).json()
        assert answered(body) == naive(w, "unit", batch_id=b.id)
    d = w.districts[0]
    body = client.get(
        "/api/v1/reports/evaluations", params={"level": "unit", "parent_id": d.id}
    ).json()
    assert answered(body) == naive(w, "unit", keep=lambda unit, br: unit.district_id == d.id)
    unit = next(iter(w.units.values()))[0]
    body = client.get(
        "/api/v1/reports/evaluations", params={"level": "branch", "parent_id": unit.id}
    ).json()
    assert answered(body) == naive(w, "branch", keep=lambda u, br: u.id == unit.id)


def test_each_caller_sees_only_their_part(client_as, session):
    w = build(session, 5)
    d = w.districts[1]
    district_admin = client_as(users.user(session, Role.district_admin, district_id=d.id))
    body = district_admin.get("/api/v1/reports/evaluations", params={"level": "branch"}).json()
    assert answered(body) == naive(w, "branch", keep=lambda unit, br: unit.district_id == d.id)
    br = next(b for b in w.branches.values() if w.units[b.unit_id][2] in DUE)
    secretary = client_as(users.user(session, Role.branch_secretary, branch_id=br.id))
    body = secretary.get("/api/v1/reports/evaluations", params={"level": "city"}).json()
    assert answered(body) == naive(w, "city", keep=lambda unit, b: b.id == br.id)
    inspector = client_as(users.user(session, Role.inspector, unit_ids=(br.unit_id,)))
    body = inspector.get("/api/v1/reports/evaluations", params={"level": "unit"}).json()
    assert answered(body) == naive(w, "unit", keep=lambda unit, b: unit.id == br.unit_id)
    other = next(x for x in w.districts if x.id != d.id)
    assert_problem(
        district_admin.get(
            "/api/v1/reports/evaluations", params={"level": "unit", "parent_id": other.id}
        ),
        404,
    )


def test_bad_parameters(client, session):
    d = org.district(session)
    for params, status in (
        ({"level": "district", "parent_id": d.id}, 422),
        ({"level": "country"}, 422),
        ({"level": "unit", "parent_id": 10**9}, 404),
        ({"batch_id": 10**9}, 404),
        ({"format": "pdf"}, 422),
    ):
        assert_problem(client.get("/api/v1/reports/evaluations", params=params), status)
    assert_problem(client.get("/api/v1/reports/evaluations/not-evaluated?unit_id=999999"), 404)


def naive_pending(w: World, keep=lambda unit, branch: True) -> list[int]:
    out = []
    for m in w.members.values():
        br = w.branches[m.branch_id]
        unit, batch_id, state = w.units[br.unit_id]
        if (
            m.status == "active"
            and state in DUE
            and keep(unit, br)
            and (batch_id, m.id) not in w.ratings
            and (m.id, batch_id, "evaluation") not in w.exempt
        ):
            out.append((unit.id, br.id, m.id))
    return [m for _, _, m in sorted(out)]


def test_the_members_not_evaluated_equal_the_naive_list_page_by_page(client, client_as, session):
    w = build(session, 7)
    everyone = []
    offset = 0
    while True:
        page = client.get(
            "/api/v1/reports/evaluations/not-evaluated", params={"limit": 4, "offset": offset}
        ).json()
        everyone += [x["member_id"] for x in page["items"]]
        offset += 4
        if offset >= page["total"]:
            break
    assert everyone == naive_pending(w) and page["total"] == len(everyone)
    body = client.get("/api/v1/reports/evaluations", params={"level": "city"}).json()
    assert body["total"]["not_evaluated"] == len(everyone)

    d = w.districts[2]
    r = client.get(
        "/api/v1/reports/evaluations/not-evaluated", params={"district_id": d.id, "limit": 500}
    )
    assert [x["member_id"] for x in r.json()["items"]] == naive_pending(
        w, lambda unit, br: unit.district_id == d.id
    )
    first = r.json()["items"][0] if r.json()["items"] else None
    if first:
        unit, _batch, state = w.units[first["unit_id"]]
        assert (first["unit_name"], first["unit_state"]) == (unit.name, state)
        assert first["branch_name"] == w.branches[first["branch_id"]].name
    br = next(b for b in w.branches.values() if w.units[b.unit_id][2] in DUE)
    secretary = client_as(users.user(session, Role.branch_secretary, branch_id=br.id))
    mine = secretary.get("/api/v1/reports/evaluations/not-evaluated").json()
    assert [x["member_id"] for x in mine["items"]] == naive_pending(
        w, lambda unit, b: b.id == br.id
    )
    other = next(b for b in w.branches.values() if b.id != br.id)
    assert_problem(
        secretary.get("/api/v1/reports/evaluations/not-evaluated", params={"branch_id": other.id}),
        404,
    )


def test_the_report_exports_with_chinese_headers(client, session, in_evaluation):
    b, _u, _br, members = in_evaluation
    factories.evaluate(session, members[0].id, b.id, "excellent")
    factories.evaluate(session, members[1].id, b.id, "unqualified", "removal")
    r = client.get("/api/v1/reports/evaluations", params={"level": "unit", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "编码", "名称", "应评党员", "免评", "已评议", "未评议", "评议率",
        "优秀", "合格", "基本合格", "不合格",
    ]  # fmt: skip
    assert rows[1][2:] == ["5", "0", "2", "3", "0.4", "1", "0", "0", "1"]
    assert rows[-1][1] == "合计"
    x = client.get("/api/v1/reports/evaluations", params={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_the_report_takes_format_json_like_every_other_report(client, in_evaluation):
    r = client.get("/api/v1/reports/evaluations", params={"format": "json"})
    assert r.status_code == 200, r.text
    assert r.json() == client.get("/api/v1/reports/evaluations").json()


def test_the_members_not_evaluated_export_with_chinese_headers(client, session, in_evaluation):
    b, u, br, members = in_evaluation
    factories.evaluate(session, members[0].id, b.id, "excellent")
    r = client.get("/api/v1/reports/evaluations/not-evaluated", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["单位", "所处阶段", "支部", "党员"]
    assert rows[1:] == [[u.name, "分析评议", br.name, m.name] for m in members[1:]]
    x = client.get(
        "/api/v1/reports/evaluations/not-evaluated", params={"format": "xlsx", "limit": 1}
    )
    assert x.status_code == 200 and x.content[:2] == b"PK"
    book = CalamineWorkbook.from_filelike(io.BytesIO(x.content))
    assert len(book.get_sheet_by_name("未评议党员").to_python()) == 1 + 4  # paging is ignored
