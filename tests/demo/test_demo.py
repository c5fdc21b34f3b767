"""The demo generator: exact sizes, valid personal data, chosen shares, determinism, the CLI."""

import dataclasses
import random
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import get_engine
from app.demo import SHARES, DemoResult, Sizes, seed_demo
from app.demo.generator import build_plan, largest_remainder
from app.demo.members import _IdNumbers, eighteenth_birthday
from app.demo.shares import AS_OF, OLDEST
from app.org.models import Branch, District, Member, Unit
from app.org.validators import is_valid_id_number, is_valid_mobile
from app.study.models import StudySession
from tests.demo.rows import (
    AREA_BY_DISTRICT_ID,
    AS_OF_T,
    BRANCH,
    DISTRICT,
    MEMBER,
    UNIT,
    counts,
    digest,
    empty,
    look_back_mix,
    orphans,
    study_counts,
)


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
