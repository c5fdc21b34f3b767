"""The demo generator: exact sizes, valid personal data, chosen shares, determinism, the CLI."""

import dataclasses
import hashlib
import random
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import get_engine
from app.demo import SHARES, DemoResult, Sizes, seed_demo
from app.demo.generator import build_plan, largest_remainder
from app.demo.members import _IdNumbers, eighteenth_birthday
from app.demo.shares import AS_OF, DISTRICTS, OLDEST
from app.models import metadata
from app.org.models import Branch, District, Member, Unit
from app.org.validators import is_valid_id_number, is_valid_mobile
from app.study.models import StudySession

DISTRICT, UNIT, BRANCH, MEMBER = (
    metadata.tables[n] for n in ("district", "unit", "branch", "member")
)
SESSION, ATTENDANCE, TOTAL, BRANCH_TOTAL = (
    metadata.tables[n]
    for n in ("study_session", "attendance", "member_study_total", "branch_session_total")
)
AS_OF_T = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
AREA_BY_DISTRICT_ID = {i + 1: area for i, (_, _, area, _) in enumerate(DISTRICTS)}


def counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (DISTRICT, UNIT, BRANCH, MEMBER)
        )


def orphans(engine: Engine) -> tuple[int, int]:
    """Units without a branch, branches without a member."""
    with engine.connect() as conn:
        bare_units = conn.scalar(
            sa.select(sa.func.count())
            .select_from(UNIT)
            .where(~sa.exists().where(BRANCH.c.unit_id == UNIT.c.id))
        )
        bare_branches = conn.scalar(
            sa.select(sa.func.count())
            .select_from(BRANCH)
            .where(~sa.exists().where(MEMBER.c.branch_id == BRANCH.c.id))
        )
    return bare_units, bare_branches


STAMPS_AND_BATCH = ("created_at", "updated_at", "batch_id")


def digest(engine: Engine) -> str:
    """Everything the seed decides; not the timestamps, nor members' database-given ids."""
    h = hashlib.sha256()
    member_columns = [c for c in MEMBER.c if c.name not in ("id", "created_at", "updated_at")]
    with engine.connect() as conn:
        for query in (
            sa.select(DISTRICT.c.id, DISTRICT.c.code, DISTRICT.c.name).order_by(DISTRICT.c.id),
            sa.select(
                UNIT.c.id, UNIT.c.code, UNIT.c.name, UNIT.c.district_id, UNIT.c.kind
            ).order_by(UNIT.c.id),
            sa.select(BRANCH.c.id, BRANCH.c.code, BRANCH.c.name, BRANCH.c.unit_id)
            .add_columns(BRANCH.c.secretary_name)
            .order_by(BRANCH.c.id),
            sa.select(*member_columns).order_by(MEMBER.c.id),
            # Study rows name members by ID number: member and batch ids are the database's.
            sa.select(*(c for c in SESSION.c if c.name not in STAMPS_AND_BATCH)).order_by(
                SESSION.c.id
            ),
            sa.select(ATTENDANCE.c.session_id, MEMBER.c.id_number)
            .add_columns(*(c for c in ATTENDANCE.c if c.name not in ("session_id", "member_id")))
            .join(MEMBER, MEMBER.c.id == ATTENDANCE.c.member_id)
            .order_by(ATTENDANCE.c.session_id, MEMBER.c.id_number),
            sa.select(MEMBER.c.id_number)
            .add_columns(*(c for c in TOTAL.c if c.name not in ("member_id", "batch_id")))
            .join(MEMBER, MEMBER.c.id == TOTAL.c.member_id)
            .order_by(MEMBER.c.id_number),
        ):
            for row in conn.execute(query):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def test_scale_1_is_the_first_batch_with_valid_data_and_the_chosen_shares(engine):
    steps: dict[str, list[tuple[int, int]]] = {}
    result = seed_demo(
        engine,
        scale=1.0,
        seed=2005,
        progress=lambda s, d, t: steps.setdefault(s, []).append((d, t)),
    )

    assert result == DemoResult(
        already_seeded=False,
        seconds=result.seconds,
        districts=12,
        units=1457,
        branches=2362,
        members=35585,
        sessions=result.sessions,
        attendance=result.attendance,
        study_totals=result.study_totals,
        units_past_study=result.units_past_study,
        evaluations=result.evaluations,
        rectification_items=result.rectification_items,
        inspections=result.inspections,
        generate_seconds=result.generate_seconds,
    )
    assert counts(engine) == (12, 1457, 2362, 35585)
    assert orphans(engine) == (0, 0)
    assert list(steps) == [
        "districts", "units", "branches", "members", "campaign", "study", "later phases"
    ]  # fmt: skip
    for step, total in zip(steps, (12, 1457, 2362, 35585, 1, 2362, 1), strict=True):
        assert steps[step][0] == (0, total) and steps[step][-1] == (total, total)
    assert len(steps["members"]) > 5  # called per chunk, not only at the ends
    assert len(steps["study"]) > 20
    # The study phase of the whole batch: about 12 sessions a branch, 400,000 records.
    assert study_counts(engine) == (result.sessions, result.attendance, result.study_totals)
    assert 26_000 <= result.sessions <= 30_000
    assert 370_000 <= result.attendance <= 440_000
    assert 30_000 <= result.study_totals <= 35_585
    ready = look_back_mix(engine)
    assert 0.25 <= sum(ready) / len(ready) <= 0.45
    # Past study: 60% of the ready units (and two of the demo users'), with their records.
    assert abs(result.units_past_study - 0.6 * sum(ready)) <= 3
    assert 600 <= result.rectification_items <= 2_500 and 200 <= result.inspections <= 450

    with engine.connect() as conn:
        kinds = Counter(
            dict(conn.execute(sa.select(UNIT.c.kind, sa.func.count()).group_by(UNIT.c.kind)).all())
        )
        members = conn.execute(
            sa.select(MEMBER, UNIT.c.district_id)
            .join(BRANCH, BRANCH.c.id == MEMBER.c.branch_id)
            .join(UNIT, UNIT.c.id == BRANCH.c.unit_id)
        ).all()

    expected_kinds = largest_remainder(1457, list(SHARES["unit_kind"].values()))
    assert kinds == dict(zip((k.value for k in SHARES["unit_kind"]), expected_kinds, strict=True))

    id_numbers = [m.id_number for m in members]
    assert all(is_valid_id_number(n) for n in id_numbers)
    assert len(set(id_numbers)) == len(members)
    for m in members:
        assert m.id_number[:6] == AREA_BY_DISTRICT_ID[m.district_id]
        assert m.id_number[6:14] == m.birth_date.strftime("%Y%m%d")
        assert int(m.id_number[16]) % 2 == (0 if m.gender == "female" else 1)
        assert eighteenth_birthday(m.birth_date) <= m.joined_on < AS_OF
        assert m.birth_date >= date(AS_OF.year - OLDEST - 1, AS_OF.month, AS_OF.day)
        assert m.phone is None or is_valid_mobile(m.phone)
        assert m.gender in ("male", "female") and m.name
        if m.is_migrant or m.is_outgoing:
            assert not m.is_retired

    n = len(members)
    for category, share in SHARES["category"].items():
        assert abs(sum(getattr(m, f"is_{category}") for m in members) / n - share) < 0.01, category
    infirm = [m for m in members if m.is_infirm]
    assert sum(m.is_retired for m in infirm) / len(infirm) > 0.7
    assert min(AS_OF.year - m.birth_date.year for m in members if m.is_retired) >= 54
    status = Counter(m.status for m in members)
    for name, share in SHARES["status"].items():
        assert abs(status[name] / n - share) < 0.004, name
    assert status["active"] / n > 0.97
    assert abs(sum(m.phone is None for m in members) / n - SHARES["without_phone"]) < 0.01
    assert abs(sum(m.gender == "female" for m in members) / n - SHARES["female"]) < 0.02


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(engine):
    seed_demo(engine, scale=0.05, seed=7)
    first = digest(engine)
    empty(engine)
    seed_demo(engine, scale=0.05, seed=7)
    assert digest(engine) == first
    empty(engine)
    seed_demo(engine, scale=0.05, seed=8)
    assert digest(engine) != first


def test_a_second_seed_writes_nothing(engine):
    seed_demo(engine, scale=0.02)
    before = digest(engine)
    again = seed_demo(engine, scale=0.02)
    assert again.already_seeded
    assert (again.districts, again.units, again.branches, again.members) == (0, 0, 0, 0)
    assert digest(engine) == before


def test_a_database_with_any_district_is_left_alone(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.insert(DISTRICT),
            {"code": "X", "name": "别处", "created_at": AS_OF_T, "updated_at": AS_OF_T},
        )
    assert seed_demo(engine, scale=0.01).already_seeded
    assert counts(engine) == (1, 0, 0, 0)


def test_two_seeds_at_once_write_once(engine):
    """The second waits for the first's transaction, then finds its rows."""
    inside = threading.Event()
    results: list[DemoResult] = []

    def slow(step: str, done: int, total: int) -> None:
        if step == "members" and not inside.is_set():
            inside.set()
            time.sleep(0.5)  # the second seed starts while this one is writing

    first = threading.Thread(
        target=lambda: results.append(seed_demo(engine, scale=0.02, progress=slow))
    )
    first.start()
    assert inside.wait(10)
    second = seed_demo(engine, scale=0.02)
    first.join()
    assert results[0].already_seeded is False and second.already_seeded is True
    assert counts(engine) == (12, *dataclasses.astuple(Sizes.at(0.02)))


@pytest.mark.parametrize("scale", [0.01, 0.0001])
def test_small_scales_round_the_counts(engine, scale):
    result = seed_demo(engine, scale=scale)
    sizes = (max(1, round(1457 * scale)), max(1, round(2362 * scale)), round(35585 * scale))
    assert (result.units, result.branches, result.members) == sizes
    assert counts(engine) == (12, *sizes)
    assert orphans(engine) == (0, 0)


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf")])
def test_a_scale_must_be_a_positive_number(engine, scale):
    with pytest.raises(ValueError, match="scale"):
        seed_demo(engine, scale=scale)
    assert counts(engine) == (0, 0, 0, 0)


@pytest.mark.parametrize("scale", [0.00001, 0.00003, 0.0001, 0.001, 0.3, 2.5])
def test_every_scale_keeps_the_tree_whole(scale):
    sizes = Sizes.at(scale)
    assert sizes.units == max(1, round(1457 * scale)) and sizes.units <= sizes.branches
    assert sizes.members == round(35585 * scale)
    plan = build_plan(sizes, random.Random(3), AS_OF_T)
    assert len(plan.units) == sizes.units and len(plan.branches) == sizes.branches
    assert {b["unit_id"] for b in plan.branches} == {u["id"] for u in plan.units}
    assert sum(plan.branch_members) == sizes.members
    if sizes.members >= sizes.branches:
        assert min(plan.branch_members) >= 1
    members = [m for chunk in plan.member_chunks(random.Random(3), 100) for m in chunk]
    assert len(members) == sizes.members
    assert all(len(chunk) <= 100 for chunk in plan.member_chunks(random.Random(3), 100))


def test_rows_carry_the_seed_moment_as_aware_timestamps(engine):
    before = datetime.now(UTC)
    seed_demo(engine, scale=0.001)
    after = datetime.now(UTC)
    with Session(engine) as session:
        for model in (District, Unit, Branch, Member, StudySession):
            row = session.exec(select(model)).first()
            assert row.created_at.tzinfo is not None and before <= row.created_at <= after
            assert row.updated_at == row.created_at


def test_scale_10_plans_the_tree_exactly():
    """Scale 10's tree without the database (its members are timed by bench/demo.py)."""
    sizes = Sizes.at(10)
    assert (sizes.units, sizes.branches, sizes.members) == (14570, 23620, 355850)
    plan = build_plan(sizes, random.Random(1), AS_OF_T)
    assert (len(plan.units), len(plan.branches), sum(plan.branch_members)) == (14570, 23620, 355850)
    assert {b["unit_id"] for b in plan.branches} == set(range(1, 14571))
    assert min(plan.branch_members) >= 1
    assert len({u["code"] for u in plan.units}) == 14570
    assert len({b["code"] for b in plan.branches}) == 23620


def test_id_numbers_stay_unique_when_many_share_a_birthday():
    ids = _IdNumbers(AS_OF)
    born = date(1970, 5, 17)
    numbers = [ids.next(0, born, female) for female in (False, True) for _ in range(499)]
    assert len(set(numbers)) == len(numbers) and all(map(is_valid_id_number, numbers))
    assert ids.next(0, born, False)  # the 500th man still fits (001..999 odd)
    with pytest.raises(OverflowError):
        ids.next(0, born, True)


def test_the_cli_seeds_once(engine, migrated_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["demo", "--scale", "0.01"])
        assert first.exit_code == 0, first.output
        # Rich wraps long lines to the terminal's width.
        assert "15 units, 24 branches, 356 members" in " ".join(first.output.split())
        assert counts(engine) == (12, 15, 24, 356)
        again = runner.invoke(cli, ["demo", "--scale", "0.01"])
        assert again.exit_code == 0, again.output
        assert "wrote nothing" in again.output
        assert counts(engine) == (12, 15, 24, 356)
    finally:
        get_engine().dispose()
        get_engine.cache_clear()
        get_settings.cache_clear()


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


# The study phase (issue 7, item 6). Scale 0.05 with seed 7: 73 units, 118 branches,
# 1,779 members, about 1,500 sessions and 21,000 attendance records.
CATEGORIES = ("migrant", "outgoing", "retired", "infirm")
EARNING = ("present", "late")


def study_counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (SESSION, ATTENDANCE, TOTAL)
        )


def study_phase(engine: Engine):
    from app.campaign.models import BatchPhase

    with Session(engine, expire_on_commit=False) as s:
        study = s.scalar(sa.select(BatchPhase).where(BatchPhase.phase == "study"))
        s.expunge_all()
        return study


def look_back_mix(engine: Engine) -> list[bool]:
    """Per unit, whether the look-back would pass: the look-back's rule in one query
    (active members, a missing total is 0 hours; the demo exempts no one)."""
    study = study_phase(engine)
    total = TOTAL.alias()
    with engine.connect() as conn:
        met = dict.fromkeys(conn.scalars(sa.select(UNIT.c.id)), (0, 0))
        rows = conn.execute(
            sa.select(
                BRANCH.c.unit_id,
                sa.func.count(),
                sa.func.sum(sa.case((sa.func.coalesce(total.c.hours, 0) >= study.min_hours, 1))),
            )
            .select_from(MEMBER)
            .join(BRANCH, BRANCH.c.id == MEMBER.c.branch_id)
            .outerjoin(
                total,
                sa.and_(
                    total.c.member_id == MEMBER.c.id,
                    total.c.batch_id == study.batch_id,
                    total.c.phase == "study",
                ),
            )
            .where(MEMBER.c.status == "active")
            .group_by(BRANCH.c.unit_id)
        ).all()
    met.update((unit, (n, ok or 0)) for unit, n, ok in rows)
    return [n == 0 or Decimal(ok) / n >= study.min_coverage for n, ok in met.values()]


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
