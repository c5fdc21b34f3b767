"""The demo's campaign and study phase: every unit enrolled, sessions in mixed formats,
absences gathered in the categories, running totals equal to a recomputation, idle
branches and unreached categories, a look-back that passes some units and not others."""

import dataclasses
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.demo import seed_demo
from app.org.models import Unit
from tests.demo.rows import (
    ATTENDANCE,
    BRANCH,
    BRANCH_TOTAL,
    CATEGORIES,
    EARNING,
    MEMBER,
    SESSION,
    TOTAL,
    digest,
    empty,
    look_back_mix,
    study_phase,
)


def test_the_demo_enrols_every_unit_in_batch_1_studying_now(engine):
    from app.campaign.models import BatchPhase, PhaseMove, UnitProgress
    from app.clock import today

    seed_demo(engine, scale=0.05, seed=7)
    with Session(engine) as s:
        units = s.scalar(sa.select(sa.func.count()).select_from(Unit))
        states = dict(
            s.execute(
                sa.select(UnitProgress.state, sa.func.count()).group_by(UnitProgress.state)
            ).all()
        )
        # Most units study; some have moved on (tests/demo/test_later_phases.py).
        assert sum(states.values()) == units and states["study"] > 0.6 * units
        assert set(states) == {"study", "evaluation", "rectification", "completed"}
        study = s.scalar(sa.select(BatchPhase).where(BatchPhase.phase == "study"))
        assert study.starts_on <= today() <= study.ends_on and study.min_hours == 40
        steps = {"study": 1, "evaluation": 2, "rectification": 3, "completed": 4}
        moves = s.scalar(sa.select(sa.func.count()).select_from(PhaseMove))
        assert moves == sum(steps[state] * n for state, n in states.items())


@dataclasses.dataclass(frozen=True)
class Studied:
    study: Any  # the batch's study phase
    batch_number: int
    members: dict[int, Any]
    branch_unit: dict[int, int]
    sessions: dict[Any, Any]
    records: list[Any]
    totals: list[Any]
    branch_totals: list[Any]


@pytest.fixture(scope="module")
def studied(_engine: Engine) -> Studied:
    """The demo at scale 0.05, read back whole and the database emptied again at once, so
    that the tests reading these rows share one seed and the others find an empty one."""
    from app.campaign.models import Batch

    try:
        seed_demo(_engine, scale=0.05, seed=7)
        study = study_phase(_engine)
        with Session(_engine) as s:
            number = s.scalar(sa.select(Batch.number).where(Batch.id == study.batch_id))
        with _engine.connect() as conn:
            return Studied(
                study=study,
                batch_number=number,
                members={m.id: m for m in conn.execute(sa.select(MEMBER))},
                branch_unit=dict(conn.execute(sa.select(BRANCH.c.id, BRANCH.c.unit_id)).all()),
                sessions={s.id: s for s in conn.execute(sa.select(SESSION))},
                records=conn.execute(sa.select(ATTENDANCE)).all(),
                totals=conn.execute(sa.select(TOTAL)).all(),
                branch_totals=conn.execute(sa.select(BRANCH_TOTAL)).all(),
            )
    finally:
        empty(_engine)


def test_every_branch_studies_within_the_window_in_mixed_formats(studied):
    from app.clock import today
    from app.study.enums import SessionFormat

    members, branch_unit, sessions, records = (
        studied.members, studied.branch_unit, studied.sessions, studied.records,
    )  # fmt: skip
    study = studied.study
    assert studied.batch_number == 1
    assert (today() - study.starts_on).days == 45 and (study.ends_on - today()).days == 15
    assert 0.05 * 26_000 <= len(sessions) <= 0.05 * 30_000
    assert 14 * len(sessions) <= len(records) <= 17 * len(sessions)

    per_branch = Counter(s.branch_id for s in sessions.values())
    active = {m.branch_id for m in members.values() if m.status == "active"}
    assert set(per_branch) == active
    assert all(8 <= n <= 16 for n in per_branch.values())
    assert 11 <= len(sessions) / len(per_branch) <= 13.5
    half_hours = {Decimal(n) / 2 for n in range(4, 9)}
    for s in sessions.values():
        assert s.id.version == 4
        assert (s.unit_id, s.batch_id, s.phase) == (
            branch_unit[s.branch_id],
            study.batch_id,
            "study",
        )
        assert study.starts_on <= s.held_on <= today()
        assert s.hours in half_hours and s.topic and s.format in set(SessionFormat)
        assert not s.lecturer_is_leading_cadre or s.format == "party_lecture"
        assert s.lecturer or s.format in ("distance_learning", "self_study")

    formats = Counter(s.format for s in sessions.values())
    assert set(formats) == set(SessionFormat)
    assert formats.most_common(1)[0][0] == "collective_study"
    by_unit: dict[int, set[str]] = {}
    cadres: Counter[int] = Counter()
    for s in sessions.values():
        by_unit.setdefault(s.unit_id, set()).add(s.format)
        cadres[s.unit_id] += s.lecturer_is_leading_cadre
    one_form = [u for u, used in by_unit.items() if len(used) == 1]
    assert 0.03 * len(by_unit) <= len(one_form) <= 0.2 * len(by_unit)
    without_cadre = [u for u in by_unit if not cadres[u]]
    assert set(one_form) < set(without_cadre) and len(without_cadre) < 0.5 * len(by_unit)


def test_attendance_credits_present_and_late_and_absences_gather_in_the_categories(studied):
    members, sessions, records = studied.members, studied.sessions, studied.records
    guests = 0
    for r in records:
        s, m = sessions[r.session_id], members[r.member_id]
        assert m.status == "active"
        if r.is_guest:
            guests += 1
            assert m.branch_id != s.branch_id and (m.is_migrant or m.is_outgoing)
            assert r.status in EARNING
        else:
            assert m.branch_id == s.branch_id
        if r.status in EARNING:
            assert r.hours is None or 0 < r.hours < s.hours
            assert r.credited == min(r.hours or s.hours, s.hours)
        else:
            assert r.status in ("excused", "absent") and r.credited == 0 and r.hours is None
    assert 0 < guests < 0.01 * len(records)
    assert sum(r.hours is not None for r in records) < 0.05 * len(records)
    status = Counter(r.status for r in records)
    assert status["present"] > 0.75 * len(records) and min(status.values()) > 0

    def missed_share(in_group) -> float:
        rs = [r for r in records if not r.is_guest and in_group(members[r.member_id])]
        return sum(r.status not in EARNING for r in rs) / len(rs)

    regular = missed_share(lambda m: not any(getattr(m, f"is_{c}") for c in CATEGORIES))
    for category in ("migrant", "outgoing", "infirm"):
        assert missed_share(lambda m, c=category: getattr(m, f"is_{c}")) > 2.5 * regular
    assert missed_share(lambda m: m.is_retired) > regular


def test_totals_equal_a_recomputation_from_the_records(studied):
    members, sessions, records, totals = (
        studied.members, studied.sessions, studied.records, studied.totals,
    )  # fmt: skip
    expected: dict[int, list] = {}
    for r in records:
        if r.status in EARNING:
            s = sessions[r.session_id]
            t = expected.setdefault(r.member_id, [Decimal(0), 0, s.held_on])
            t[0] += r.credited
            t[1] += 1
            t[2] = max(t[2], s.held_on)
    assert {(t.batch_id, t.phase) for t in totals} == {(studied.study.batch_id, "study")}
    assert {t.member_id: [t.hours, t.sessions, t.last_attended_on] for t in totals} == expected
    # Nearly every active member has studied something; those who have not have no row.
    active = [m for m in members.values() if m.status == "active"]
    assert 0.9 * len(active) <= len(totals) < len(active)


def test_branch_session_totals_equal_a_recomputation_from_the_sessions(studied):
    expected: dict[tuple, dict] = {}
    for s in studied.sessions.values():
        key = (s.branch_id, s.batch_id, s.phase)
        t = expected.setdefault(key, {"sessions": 0, "leader_lectures": 0, "last": s.held_on})
        t["sessions"] += 1
        t["leader_lectures"] += int(s.lecturer_is_leading_cadre)
        t["last"] = max(t["last"], s.held_on)
        t[s.format] = t.get(s.format, 0) + 1
    stored = {}
    for t in studied.branch_totals:
        row = t._mapping
        stored[(t.branch_id, t.batch_id, t.phase)] = {
            "sessions": t.sessions,
            "leader_lectures": t.leader_lectures,
            "last": t.last_held_on,
            **{
                name.removesuffix("_sessions"): n
                for name, n in row.items()
                if name.endswith("_sessions") and name != "sessions" and n
            },
        }
    assert stored == expected
    assert sum(t["sessions"] for t in stored.values()) == len(studied.sessions)


def test_some_branches_are_idle_and_some_categories_unreached(studied):
    from app.clock import today

    members, sessions, records = studied.members, studied.sessions, studied.records
    study_start = studied.study.starts_on
    last_held: dict[int, date] = {}
    for s in sessions.values():
        last_held[s.branch_id] = max(last_held.get(s.branch_id, s.held_on), s.held_on)
    idle = [b for b, last in last_held.items() if (today() - last).days > 30]
    assert 1 <= len(idle) <= 0.08 * len(last_held)
    for b in idle:
        assert (last_held[b] - study_start).days < 10
    # Every other branch held a session in the last two weeks.
    assert all((today() - last).days <= 14 for b, last in last_held.items() if b not in idle)

    attended = {r.member_id for r in records if r.status in EARNING}
    reached: dict[tuple[int, str], bool] = {}
    for m in members.values():
        if m.status != "active":
            continue
        for c in CATEGORIES:
            if getattr(m, f"is_{c}"):
                key = (m.branch_id, c)
                reached[key] = reached.get(key, False) or m.id in attended
    dead_corners = [key for key, yes in reached.items() if not yes]
    assert 1 <= len(dead_corners) < 0.2 * len(reached)


def test_the_look_back_finds_some_units_ready_and_the_rest_not(engine):
    from app.campaign.lookback import look_back

    seed_demo(engine, scale=0.05, seed=7)
    study = study_phase(engine)
    with Session(engine) as s:
        found = [look_back(s, u, study) for u in s.scalars(sa.select(Unit.id).order_by(Unit.id))]
    ready = [f.ok for f in found]
    assert ready == look_back_mix(engine)
    assert 0.2 <= sum(ready) / len(ready) <= 0.5
    short = Counter(
        c for f in found for b in f.branches for m in b.short for c in (m.categories or ["none"])
    )
    assert short["migrant"] and short["outgoing"] and short["none"]


def test_the_study_rows_do_not_depend_on_the_chunk_size(engine):
    seed_demo(engine, scale=0.02, seed=5)
    first = digest(engine)
    empty(engine)
    result = seed_demo(engine, scale=0.02, seed=5, chunk_size=37)
    assert digest(engine) == first and result.attendance > 37 * 20
