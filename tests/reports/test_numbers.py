"""Numbers pinned: every report's figures equal a naive count over the raw attendance rows,
at every level, for every phase and batch filter, on random organisations."""

import itertools

import pytest

from app.auth.principal import Role
from app.clock import today
from tests.auth import factories as users
from tests.reports import naive
from tests.reports.world import build

REPORTS = "/api/v1/reports"
SEEDS = [11, 23, 37]
LEVELS = ["city", "district", "unit", "branch"]
PHASES = [None, "study", "evaluation", "rectification"]


def _params(**given) -> dict:
    return {k: v for k, v in given.items() if v is not None}


def _all_pages(client, path: str, params: dict) -> list[dict]:
    items, offset = [], 0
    while True:
        r = client.get(path, params={**params, "limit": 500, "offset": offset})
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        offset += 500
        if offset >= body["total"]:
            assert len(items) == body["total"]
            return items


def _coverage_row(row: dict) -> dict:
    keys = (
        "members",
        "participated",
        "met_hours",
        "coverage",
        "avg_hours",
        "sessions",
        "formats_used",
        "leader_lectures",
        "formats",
        "categories",
    )
    return {k: row[k] for k in keys}


def _check_all_reports(client, session, world, scope: naive.Scope) -> None:
    raw = naive.load(session)
    day = today()
    for batch_id, phase in itertools.product([None, *world.batch_ids], PHASES):
        where = f"batch={batch_id} phase={phase}"
        for level in LEVELS:
            r = client.get(
                f"{REPORTS}/coverage", params=_params(level=level, batch_id=batch_id, phase=phase)
            )
            assert r.status_code == 200, r.text
            got = r.json()
            want = naive.coverage(raw, scope, level, phase, batch_id, day)
            rows = {row["id"]: _coverage_row(row) for row in got["rows"]}
            assert rows == want["rows"], f"{level} {where}"
            assert _coverage_row(got["total"]) == want["total"], f"{level} total {where}"
            order = [
                (row["coverage"] is None, row["coverage"] or 0, row["code"] or "")
                for row in got["rows"]
            ]
            assert order == sorted(order), f"{level} order {where}"
        gaps = _all_pages(client, f"{REPORTS}/gaps", _params(batch_id=batch_id, phase=phase))
        keys = naive.gaps(raw, scope, phase, batch_id, day)[0].keys() if gaps else ()
        assert [{k: g[k] for k in keys} for g in gaps] == naive.gaps(
            raw, scope, phase, batch_id, day
        ), where
        corners = _all_pages(
            client, f"{REPORTS}/dead-corners", _params(batch_id=batch_id, phase=phase)
        )
        assert [
            {"branch_id": c["branch_id"], "category": c["category"], "members": c["members"]}
            for c in corners
        ] == naive.dead_corners(raw, scope, phase, batch_id, day), where
        weak = _all_pages(
            client, f"{REPORTS}/weak-branches", _params(batch_id=batch_id, phase=phase)
        )
        assert [
            {
                "branch_id": w["branch_id"],
                "members": w["members"],
                "participated": w["participated"],
                "participation": w["participation"],
                "last_session_on": w["last_session_on"],
                "days_without_session": w["days_without_session"],
                "reasons": w["reasons"],
                "mark_status": w["mark"] and w["mark"]["status"],
            }
            for w in weak
        ] == naive.weak_branches(raw, scope, phase, batch_id, day), where


def _marks(client, world, seed: int) -> None:
    """A few hand marks, one of them done."""
    due = today().isoformat()
    for n, branch_id in enumerate(world.branch_ids[seed % 3 :: 4]):
        body = {"reason": "班子不健全", "plan": "调整支部班子", "due_on": due}
        if n == 1:
            body["status"] = "done"
        r = client.post(f"/api/v1/branches/{branch_id}/weak-mark", json=body)
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("seed", SEEDS)
def test_reports_equal_a_naive_count_of_the_attendance_rows(client, session, seed):
    world = build(session, client, seed)
    _marks(client, world, seed)
    _check_all_reports(client, session, world, naive.Scope())


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_scoped_reports_equal_the_naive_count_of_the_callers_part(client, client_as, session, seed):
    world = build(session, client, seed)
    _marks(client, world, seed)
    raw = naive.load(session)
    district_id = world.district_ids[0]
    units = {u for u, row in raw.units.items() if row["district_id"] == district_id}
    district_admin = users.user(session, Role.district_admin, district_id=district_id)
    _check_all_reports(client_as(district_admin), session, world, naive.Scope(units=units))
    branch_id = world.branch_ids[-1]
    secretary = users.user(session, Role.branch_secretary, branch_id=branch_id)
    _check_all_reports(client_as(secretary), session, world, naive.Scope(branches={branch_id}))


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_parent_rows_equal_the_naive_count_under_the_parent(client, session, seed):
    world = build(session, client, seed)
    raw = naive.load(session)
    for level, parents in (("unit", world.district_ids), ("branch", world.unit_ids)):
        for parent_id in parents:
            r = client.get(f"{REPORTS}/coverage", params={"level": level, "parent_id": parent_id})
            assert r.status_code == 200, r.text
            want = naive.coverage(raw, naive.Scope(), level, None, None, today(), parent_id)
            assert {row["id"]: _coverage_row(row) for row in r.json()["rows"]} == want["rows"]
            assert _coverage_row(r.json()["total"]) == want["total"]


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_reports_agree_with_the_look_back_and_the_member_view(client, session, seed):
    world = build(session, client, seed)
    raw = naive.load(session)
    units = client.get(f"{REPORTS}/coverage", params={"level": "unit"}).json()["rows"]
    for row in units:
        look = client.get(f"/api/v1/units/{row['id']}/look-back").json()
        assert (look["members"], look["met"]) == (row["members"], row["met_hours"])
        if row["members"]:
            assert look["coverage"] == row["coverage"]
    gaps = {g["member_id"]: g for g in _all_pages(client, f"{REPORTS}/gaps", {})}
    for member_id in world.member_ids:
        view = client.get(f"/api/v1/members/{member_id}/study").json()
        member = next(m for m in raw.members if m["id"] == member_id)
        if member["status"] != "active":
            continue
        gap = gaps.get(member_id)
        assert view["gap"] == (gap is not None), member_id
        if gap is not None:
            assert view["reasons"] == gap["reasons"]
            assert view["remedy"] == gap["remedy"]
            mine = next(p for p in view["phases"] if p["phase"] == gap["phase"])
            assert (mine["hours"], mine["required_hours"]) == (gap["hours"], gap["required"])


def test_the_random_worlds_reach_every_case(client, session):
    """The worlds above are worth checking against: across the seeds, each report has rows
    and each rule fires."""
    seen = set()
    for seed in SEEDS:
        world = build(session, client, seed)
        _marks(client, world, seed)
        raw = naive.load(session)
        for phase in PHASES:
            for g in naive.gaps(raw, naive.Scope(), phase, None, today()):
                seen.update(g["reasons"])
                seen.add(g["remedy"])
            if naive.dead_corners(raw, naive.Scope(), phase, None, today()):
                seen.add("dead_corner")
            for w in naive.weak_branches(raw, naive.Scope(), phase, None, today()):
                seen.update(w["reasons"])
        rows = naive.coverage(raw, naive.Scope(), "branch", None, None, today())["rows"]
        seen.update(
            f"coverage {r['coverage']}" for r in rows.values() if r["coverage"] in (0, 1, None)
        )
        seen.update("some_coverage" for r in rows.values() if r["coverage"] not in (0, 1, None))
    assert {
        "below_hours",
        "inactive_30d",
        "distance_learning",
        "home_delivery",
        "make_up",
        "dead_corner",
        "low_participation",
        "no_recent_session",
        "marked",
        "some_coverage",
        "coverage None",
    } <= seen, seen
