"""The demo's democratic evaluations (民主评议), written in bulk.

Every active member of a unit in rectification or completed was evaluated (the evaluation
gate let the unit pass); in units still in evaluation, most branches have held their
evaluation meeting and some have not, so that the gate has units to refuse. Ratings are
mostly qualified; a member rated basically qualified or unqualified has a follow-up measure
and the rectification item the evaluation opened, one per member, as the API would write.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.campaign.enums import Phase, UnitState
from app.demo.campaign import DemoCampaign
from app.demo.phases import DemoPhases, demo_user_units
from app.demo.rectification import DemoItem, write_items
from app.demo.writer import insert_rows
from app.evaluation.enums import Measure, Rating
from app.evaluation.service import source_ref
from app.models import metadata
from app.org.enums import MemberStatus
from app.rectification.enums import RectificationSource
from app.rectification.enums import RectificationStatus as Status

RATINGS = {
    Rating.excellent: 0.18,
    Rating.qualified: 0.76,
    Rating.basically_qualified: 0.045,
    Rating.unqualified: 0.015,
}
MEASURES = {
    Rating.basically_qualified: {
        Measure.counselling: 0.6,
        Measure.criticism_education: 0.25,
        Measure.deadline_correction: 0.15,
    },
    Rating.unqualified: {
        Measure.deadline_correction: 0.7,
        Measure.persuade_to_withdraw: 0.2,
        Measure.removal: 0.1,
    },
}
COMMENTS = {
    Rating.excellent: ("学习认真，带头作用明显", "工作积极主动，群众评价好", "热心帮扶困难群众"),
    Rating.basically_qualified: (
        "参加组织生活不经常",
        "学习不够深入，笔记不全",
        "宗旨意识有所淡薄，服务群众不够主动",
    ),
    Rating.unqualified: (
        "长期不参加组织生活，不交纳党费",
        "理想信念动摇，不履行党员义务",
        "在群众中造成不良影响",
    ),
}
# In a unit still in evaluation: the chance a branch has evaluated all its members, or
# about half of them (the meeting went on over two sittings); otherwise none yet.
_BRANCH_DONE, _BRANCH_HALF = 0.55, 0.2
# The items' statuses by the unit's state (completed units' items are all verified).
_ITEM_STATUS = {
    UnitState.evaluation: {Status.open: 3, Status.in_progress: 2},
    UnitState.rectification: {
        Status.open: 1,
        Status.in_progress: 3,
        Status.done: 2,
        Status.verified: 2,
    },
    UnitState.completed: {Status.verified: 1},
}


@dataclass(frozen=True)
class EvaluationCounts:
    evaluations: int
    items: int


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _members(conn: sa.Connection) -> list[sa.Row]:
    """Active members of the units past study with their branch: by unit, branch, member."""
    t = metadata.tables
    member, branch, progress = t["member"], t["branch"], t["unit_progress"]
    return list(
        conn.execute(
            sa.select(
                member.c.id,
                member.c.branch_id,
                branch.c.unit_id,
                branch.c.name,
                branch.c.secretary_name,
            )
            .join(branch, branch.c.id == member.c.branch_id)
            .join(progress, progress.c.unit_id == branch.c.unit_id)
            .where(
                progress.c.state.in_([s.value for s in _ITEM_STATUS]),
                member.c.status == MemberStatus.active.value,
            )
            .order_by(branch.c.unit_id, member.c.branch_id, member.c.id)
        )
    )


def _chosen(rng: random.Random, rows: list[sa.Row], state: dict[int, UnitState]) -> list[sa.Row]:
    """The members evaluated: all of units past evaluation; in units still in it, branch by
    branch all, about half or none."""
    chosen, share = [], {}
    for row in rows:
        if state[row.unit_id] is not UnitState.evaluation:
            chosen.append(row)
            continue
        if row.branch_id not in share:
            draw = rng.random()
            share[row.branch_id] = (
                1.0 if draw < _BRANCH_DONE else (0.5 if draw < _BRANCH_DONE + _BRANCH_HALF else 0.0)
            )
        if rng.random() < share[row.branch_id]:
            chosen.append(row)
    return chosen


def write_evaluations(
    conn: sa.Connection, phases: DemoPhases, campaign: DemoCampaign, seed: int, now: datetime
) -> EvaluationCounts:
    rng = random.Random(f"evaluations-{seed}")
    state = {u: s for s in _ITEM_STATUS for u in phases.in_state(s)}
    rows = _members(conn)
    chosen = _chosen(rng, rows, state)
    # The demo users' unit in evaluation keeps a member to evaluate, so the gate refuses it.
    for unit_id in demo_user_units(conn):
        members = [r for r in rows if r.unit_id == unit_id]
        if state.get(unit_id) is UnitState.evaluation and members:
            chosen = [r for r in chosen if r.id != members[-1].id]
    t = metadata.tables
    deadline = conn.scalar(
        sa.select(t["batch_phase"].c.ends_on).where(
            t["batch_phase"].c.batch_id == campaign.batch_id,
            t["batch_phase"].c.phase == Phase.rectification.value,
        )
    )
    evaluations, items = [], []
    for row in chosen:
        entered = phases.entered[row.unit_id]
        start = entered[UnitState.evaluation]
        end = entered.get(UnitState.rectification, now)
        at = start + timedelta(seconds=rng.uniform(0.1, 0.9) * (end - start).total_seconds())
        rating = _pick(rng, RATINGS)
        measure = _pick(rng, MEASURES[rating]) if rating.needs_measure else None
        comment = (
            rng.choice(COMMENTS[rating])
            if rating.needs_measure or (rating in COMMENTS and rng.random() < 0.3)
            else None
        )
        evaluations.append(
            {
                "batch_id": campaign.batch_id,
                "member_id": row.id,
                "rating": rating.value,
                "measure": measure and measure.value,
                "comment": comment,
                "evaluated_at": at,
                "evaluated_by": None,
            }
        )
        if measure is None:
            continue
        unit_state = state[row.unit_id]
        items.append(
            DemoItem(
                unit_id=row.unit_id,
                branch_id=row.branch_id,
                member_id=row.id,
                source=RectificationSource.evaluation.value,
                source_ref=source_ref(campaign.batch_id, row.id),
                phase=Phase.evaluation.value,
                problem=f"民主评议评定为“{rating.label}”：{comment}",
                measures=measure.label,
                owner=(row.secretary_name or row.name)[:100],
                deadline=deadline,
                status=_pick(rng, _ITEM_STATUS[unit_state]).value,
                opened_at=at,
                closed_by=entered.get(UnitState.completed),
            )
        )
    for start in range(0, len(evaluations), 5_000):
        insert_rows(conn, t["evaluation"], evaluations[start : start + 5_000], now)
    write_items(conn, items, now)
    return EvaluationCounts(len(evaluations), len(items))
