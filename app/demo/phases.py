"""Carries some demo units past study: units whose study look-back passes move on to
evaluation, rectification or completed, as the advance would have moved them (one
PhaseMove per step, dated in the past), so the later phases' records and gates have
units to be about. Units short of study stay in it; so do most of the ready ones.

The demo inspector's second and third unit (app/demo/users.py: the first three units of
the first district) are always moved, to rectification and evaluation, so that the demo
users find the gates to try; the move is written as an override if their look-back fails.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.campaign.enums import UnitState
from app.demo.campaign import DemoCampaign
from app.demo.writer import analyze
from app.models import metadata

# Of the units whose look-back passes: the share moved to each later state (the rest stay).
MOVED: dict[UnitState, float] = {
    UnitState.evaluation: 0.25,
    UnitState.rectification: 0.25,
    UnitState.completed: 0.10,
}
LATER = (UnitState.evaluation, UnitState.rectification, UnitState.completed)
# Days before the demo's day of each step out of a state (earliest, latest).
_STEP_DAYS = {
    UnitState.study: (10, 16),
    UnitState.evaluation: (5, 9),
    UnitState.rectification: (1, 4),
}
OVERRIDE_REASON = "演示数据：督导组联系单位，先行转入下一阶段"


@dataclass(frozen=True)
class DemoPhases:
    """Where the demo's units stand once moved: unit ids per state past study."""

    evaluation: list[int] = field(default_factory=list)
    rectification: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    # When each moved unit entered each state it reached past study.
    entered: dict[int, dict[UnitState, datetime]] = field(default_factory=dict)

    def in_state(self, state: UnitState) -> list[int]:
        return getattr(self, state.value)

    def past_study(self) -> list[int]:
        """Every unit that has left study (their members are the ones to be evaluated)."""
        return sorted([*self.evaluation, *self.rectification, *self.completed])


def ready_units(conn: sa.Connection, batch_id: int) -> set[int]:
    """Units whose study look-back passes: enough active members met the hours (the demo
    exempts no one; a unit without active members passes, as the look-back has it)."""
    t = metadata.tables
    member, branch, unit, total, phase = (
        t[n] for n in ("member", "branch", "unit", "member_study_total", "batch_phase")
    )
    # Statistics first: without them PostgreSQL joins the members just written to their
    # totals as a nested loop (26 s at scale 1 instead of a fraction of one).
    analyze(conn, [member, branch, total])
    study = conn.execute(
        sa.select(phase.c.min_hours, phase.c.min_coverage).where(
            phase.c.batch_id == batch_id, phase.c.phase == "study"
        )
    ).one()
    met = sa.case((sa.func.coalesce(total.c.hours, 0) >= study.min_hours, 1), else_=0)
    rows = conn.execute(
        sa.select(branch.c.unit_id, sa.func.count(), sa.func.sum(met))
        .select_from(member)
        .join(branch, branch.c.id == member.c.branch_id)
        .outerjoin(
            total,
            sa.and_(
                total.c.member_id == member.c.id,
                total.c.batch_id == batch_id,
                total.c.phase == "study",
            ),
        )
        .where(member.c.status == "active")
        .group_by(branch.c.unit_id)
    ).all()
    short = {u for u, n, ok in rows if n and (ok or 0) < study.min_coverage * n}
    return set(conn.scalars(sa.select(unit.c.id))) - short


def demo_user_units(conn: sa.Connection) -> list[int]:
    """The first three units of the first district: those the demo users reach."""
    unit = metadata.tables["unit"]
    first = conn.scalar(sa.select(sa.func.min(unit.c.district_id)))
    return list(
        conn.scalars(
            sa.select(unit.c.id).where(unit.c.district_id == first).order_by(unit.c.id).limit(3)
        )
    )


def move_units(conn: sa.Connection, campaign: DemoCampaign, seed: int, now: datetime) -> DemoPhases:
    rng = random.Random(f"phases-{seed}")
    ready = sorted(ready_units(conn, campaign.batch_id))
    rng.shuffle(ready)
    targets: dict[int, UnitState] = {}
    start = 0
    for state, share in MOVED.items():
        count = round(len(ready) * share)
        targets.update((u, state) for u in ready[start : start + count])
        start += count
    forced = demo_user_units(conn)[1:]
    for unit_id, state in zip(
        forced, (UnitState.rectification, UnitState.evaluation), strict=False
    ):
        targets[unit_id] = state
    overridden = {u for u in forced if u not in set(ready)}
    phases = DemoPhases()
    moves = []
    for unit_id in sorted(targets):
        state = targets[unit_id]
        phases.in_state(state).append(unit_id)
        current, entered = UnitState.study, {}
        while current is not state:
            target = current.next
            assert target is not None
            days = rng.randint(*_STEP_DAYS[current])
            at = now - timedelta(days=days, hours=rng.randint(0, 8))
            entered[target] = at
            reason = (
                OVERRIDE_REASON if current is UnitState.study and unit_id in overridden else None
            )
            moves.append(
                {
                    "unit_id": unit_id,
                    "batch_id": campaign.batch_id,
                    "from_state": current.value,
                    "to_state": target.value,
                    "at": at,
                    "username": "system",
                    "override_reason": reason,
                }
            )
            current = target
        phases.entered[unit_id] = entered
    _write_moves(conn, campaign.batch_id, moves, phases)
    return phases


def _write_moves(conn: sa.Connection, batch_id: int, moves: list[dict], phases: DemoPhases) -> None:
    t = metadata.tables
    if moves:
        conn.execute(sa.insert(t["phase_move"]), moves)
    progress = t["unit_progress"]
    updates = [
        {
            "u": unit_id,
            "state": state.value,
            "entered_at": phases.entered[unit_id][state],
            "steps": len(phases.entered[unit_id]),
        }
        for state in LATER
        for unit_id in phases.in_state(state)
    ]
    if updates:
        conn.execute(
            sa.update(progress)
            .where(progress.c.unit_id == sa.bindparam("u"), progress.c.batch_id == batch_id)
            .values(
                state=sa.bindparam("state"),
                entered_at=sa.bindparam("entered_at"),
                version=progress.c.version + sa.bindparam("steps"),
            ),
            updates,
        )
