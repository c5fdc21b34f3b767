"""What the server benchmarks (ingest.py, load.py) set up alike: large branches in demo
units, the days a study session may be held on, the cycle of statuses every set moves
along, a vacuumed and analysed database, and SIGTERM that unwinds like Ctrl-C."""

import signal
from collections.abc import Sequence
from datetime import date, timedelta
from types import FrameType

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth.models import User
from app.campaign.models import BatchPhase, UnitProgress
from app.clock import today
from app.db import new_session
from app.org.models import Branch, Member

# Each PUT moves every record one step along this cycle, so no two successive sets of a
# session are equal: present -> late keeps the hours, late -> absent loses them (the last
# attended date is looked up again), absent -> present earns them back.
STATUSES = ("present", "late", "absent")


def create_large_branches(
    engine: Engine, branches: int, members: int
) -> tuple[dict[int, list[int]], int]:
    """``branches`` new branches with ``members`` active members each, in distinct demo
    units (all enrolled in batch 1, studying); and the id of a new city admin."""
    with new_session(engine, write=True) as session:
        unit_ids = session.scalars(
            sa.select(UnitProgress.unit_id)
            .where(UnitProgress.state == "study")
            .order_by(UnitProgress.unit_id)
            .limit(branches)
        ).all()
        if len(unit_ids) < branches:
            raise SystemExit(f"the demo has only {len(unit_ids)} units in study; lower --branches")
        made = [
            Branch(code=f"BENCH{i:04d}", name=f"压测第{i + 1}党支部", unit_id=unit_id)
            for i, unit_id in enumerate(unit_ids)
        ]
        session.add_all(made)
        session.flush()
        rows = [
            Member(
                name=f"压测党员{b.id}-{j}",
                gender="male" if j % 2 else "female",
                branch_id=b.id,
            )
            for b in made
            for j in range(members)
        ]
        session.add_all(rows)
        admin = User(
            username="bench_admin",
            display_name="压测管理员",
            role="city_admin",
            # Never a valid hash: the token is minted directly, nobody logs in.
            password_hash="!",
        )
        session.add(admin)
        session.commit()
        by_branch: dict[int, list[int]] = {b.id: [] for b in made}
        for m in rows:
            by_branch[m.branch_id].append(m.id)
        return by_branch, admin.id


def study_days(engine: Engine, branch_ids: Sequence[int]) -> list[date]:
    """Days a study session may be held on in every given branch: in the study window of
    their batch and not after today."""
    with new_session(engine, write=False) as session:
        windows = session.execute(
            sa.select(BatchPhase.starts_on, BatchPhase.ends_on)
            .join(UnitProgress, UnitProgress.batch_id == BatchPhase.batch_id)
            .join(Branch, Branch.unit_id == UnitProgress.unit_id)
            .where(Branch.id.in_(branch_ids), BatchPhase.phase == "study")
        ).all()
    first = max(w.starts_on for w in windows)
    last = min(min(w.ends_on for w in windows), today())
    if first > last:
        raise SystemExit(f"no day lies in the study window ({first} to {last})")
    return [last - timedelta(days=n) for n in range(min(20, (last - first).days + 1))]


def records(members: Sequence[int], turn: int) -> list[tuple[int, str]]:
    """The set a session gets on its ``turn``-th write: (member id, status)."""
    return [(m, STATUSES[(i + turn) % len(STATUSES)]) for i, m in enumerate(members)]


def vacuum_analyze(dsn: str) -> bool:
    """VACUUM ANALYZE the database; answers whether the server runs autovacuum.

    Done after the setup and before each timed run: fresh tables have no statistics (the
    planner then guesses one row, and the totals' look-up takes a nested loop over every
    session of the phase), and every PUT leaves a set of dead rows behind. A server with
    autovacuum on would do both by itself, if not at once.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SHOW autovacuum").fetchone()
    return bool(row and row[0] == "on")


# ---------------------------------------------------------------------------- process


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C: the server group is killed and the database dropped."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
