"""The seed: generate the demo organisation and write it in one transaction."""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.db import writer
from app.demo.campaign import seed_campaign
from app.demo.evaluation import write_evaluations
from app.demo.generator import Row, build_plan
from app.demo.phases import move_units
from app.demo.rectification import write_rectification
from app.demo.shares import DISTRICTS, Sizes
from app.demo.study_write import write_study
from app.demo.timing import Timed
from app.demo.writer import analyze, claim_empty_database, insert_rows, reset_sequences
from app.models import metadata

# Rows per insert: big enough that round trips do not count, small enough that scale 10
# (355,850 members) never holds more than one chunk of member dicts in memory.
CHUNK_SIZE: Final = 5_000
DEFAULT_SEED: Final = 2005
# The tables the seed writes, analysed at the end on PostgreSQL.
SEEDED_TABLES: Final = (
    "district", "unit", "branch", "member", "campaign", "batch", "batch_phase",
    "unit_progress", "phase_move", "study_session", "attendance", "member_study_total",
    "branch_session_total",
    "rectification_item", "rectification_step", "inspection", "inspection_finding",
    "evaluation",
)  # fmt: skip

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoResult:
    already_seeded: bool
    seconds: float
    districts: int = 0
    units: int = 0
    branches: int = 0
    members: int = 0
    # The study phase of batch 1: sessions, attendance records, members' totals rows.
    sessions: int = 0
    attendance: int = 0
    study_totals: int = 0
    # Past study: units moved on, rectification items, inspections.
    units_past_study: int = 0
    evaluations: int = 0
    rectification_items: int = 0
    inspections: int = 0
    # Of ``seconds``, the time spent making rows rather than writing them (for the benchmark).
    generate_seconds: float = 0.0


def _no_progress(step: str, done: int, total: int) -> None:
    pass


def seed_demo(
    engine: Engine,
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> DemoResult:
    """Fill an empty database with the demo organisation; do nothing if it holds any district.

    Scale 1.0 is the campaign's first batch: 12 districts, 1,457 units, 2,362 branches and
    35,585 members, every unit studying, with about 12 sessions per branch and their
    attendance. The same seed and scale always give the same rows, apart from the creation
    timestamps, the members' ids, which the database assigns, and dates, which count from
    the day the demo is written.
    """
    started = perf_counter()
    sizes = Sizes.at(scale)
    report = progress or _no_progress
    tables = metadata.tables
    district, unit, branch, member = (tables[n] for n in ("district", "unit", "branch", "member"))

    with writer(engine).begin() as conn:
        if not claim_empty_database(conn, district):
            return DemoResult(already_seeded=True, seconds=perf_counter() - started)
        rng = random.Random(seed)
        generating = perf_counter()
        plan = build_plan(sizes, rng, utcnow())
        generate_seconds = perf_counter() - generating

        for step, table, rows in (
            ("districts", district, plan.districts),
            ("units", unit, plan.units),
            ("branches", branch, plan.branches),
        ):
            _write_all(conn, table, step, rows, plan.now, chunk_size, report)
        reset_sequences(conn, (district, unit, branch))

        chunks = Timed(plan.member_chunks(rng, chunk_size))
        done = 0
        report("members", done, sizes.members)
        for rows in chunks:
            insert_rows(conn, member, rows, plan.now)
            done += len(rows)
            report("members", done, sizes.members)
        generate_seconds += chunks.seconds
        report("campaign", 0, 1)
        campaign = seed_campaign(conn, [row["id"] for row in plan.units], plan.now)
        report("campaign", 1, 1)

        report("study", 0, sizes.branches)
        study = write_study(
            conn,
            plan,
            rng,
            campaign,
            chunk_size,
            lambda done: report("study", done, sizes.branches),
        )
        generate_seconds += study.generate_seconds
        report("later phases", 0, 1)
        phases = move_units(conn, campaign, seed, plan.now)
        evaluated = write_evaluations(conn, phases, campaign, seed, plan.now)
        later = write_rectification(conn, phases, campaign, seed, plan.now)
        report("later phases", 1, 1)
        analyze(conn, [tables[name] for name in SEEDED_TABLES])

    return DemoResult(
        already_seeded=False,
        seconds=perf_counter() - started,
        districts=len(DISTRICTS),
        units=sizes.units,
        branches=sizes.branches,
        members=sizes.members,
        sessions=study.sessions,
        attendance=study.attendance,
        study_totals=study.totals,
        units_past_study=len(phases.past_study()),
        evaluations=evaluated.evaluations,
        rectification_items=later.items + evaluated.items,
        inspections=later.inspections,
        generate_seconds=generate_seconds,
    )


def _write_all(
    conn: sa.Connection,
    table: sa.Table,
    step: str,
    rows: Sequence[Row],
    stamp: datetime,
    chunk_size: int,
    report: Progress,
) -> None:
    report(step, 0, len(rows))
    for start in range(0, len(rows), chunk_size):
        insert_rows(conn, table, rows[start : start + chunk_size], stamp)
        report(step, min(start + chunk_size, len(rows)), len(rows))
