"""The demo's rectification items (整改事项) and inspections (督导检查), written in bulk.

Units in every state get items, the more the further they are: a few units still in study
fix problems as they study (边学边改), units in evaluation have items under way, units in
rectification have items in every status, and completed units only verified ones (the
completion gate). Supervision teams have inspected most units past study and some still in
it; about half their findings opened an item. Every item carries the steps that brought it
to its status, each with its evidence note, dated between its opening and the demo's day.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.campaign.enums import UnitState
from app.clock import CAMPAIGN_TZ
from app.demo.campaign import DemoCampaign
from app.demo.names import person_name
from app.demo.phases import DemoPhases
from app.demo.writer import reset_sequences
from app.models import metadata
from app.rectification.enums import RectificationSource as Source
from app.rectification.enums import RectificationStatus as Status

PROBLEMS = {
    Source.look_back: (
        "部分党员学时未达到要求",
        "流动党员参学覆盖不到位",
        "学习笔记和心得体会质量不高",
        "集中学习组织次数偏少",
    ),
    Source.public_feedback: (
        "群众反映个别党员办事推诿、服务态度差",
        "群众反映村务、财务公开不及时",
        "群众反映窗口办事效率低",
        "群众反映党员先锋模范作用发挥不明显",
    ),
    Source.self_found: (
        "“三会一课”制度落实不经常",
        "党员发展程序执行不够严格",
        "党费收缴不及时",
        "党员活动室利用率低",
    ),
}
FINDINGS = (
    "个别支部学习流于形式",
    "分析评议阶段征求意见范围偏窄",
    "整改台账不完整，责任不明确",
    "领导班子专题民主生活会准备不充分",
    "党员党性分析材料查摆问题不具体",
    "流动党员联系不经常",
)
MEASURES = (
    "制定整改方案，明确时限，逐项销号",
    "组织补课，专人负责督促",
    "建立健全相关制度并严格执行",
    "开展谈心谈话，限期改正",
    "召开专题会议研究整改措施",
    "公开整改情况，接受群众监督",
)
OWNERS = ("党委书记", "支部书记", "党委副书记", "组织委员", "纪检委员", "单位负责人")
NOTES = {
    Status.in_progress: "已制定整改方案，召开专题会议部署",
    Status.done: "已按期完成整改，相关材料已归档备查",
    Status.verified: "督导组复核，整改到位，同意销号",
}
ORDER = list(Status)
# Per state: chance a unit has items at all, how many (inclusive), and the status weights.
_ITEMS = {
    UnitState.study: (0.06, (1, 1), {Status.open: 3, Status.in_progress: 2}),
    UnitState.evaluation: (
        0.8,
        (1, 2),
        {Status.open: 3, Status.in_progress: 3, Status.done: 2},
    ),
    UnitState.rectification: (
        1.0,
        (2, 4),
        {Status.open: 2, Status.in_progress: 3, Status.done: 2.5, Status.verified: 2.5},
    ),
    UnitState.completed: (1.0, (1, 3), {Status.verified: 1}),
}
# Chance a unit in this state has been inspected.
_INSPECTED = {
    UnitState.study: 0.10,
    UnitState.evaluation: 0.6,
    UnitState.rectification: 0.7,
    UnitState.completed: 0.8,
}
_FINDINGS_PER_VISIT = {0: 2, 1: 3.5, 2: 3, 3: 1.5}
_SEVERITY = {"low": 4, "medium": 4, "high": 2}
_ASSESSMENT = {"good": 4.5, "fair": 4, "poor": 1.5}


@dataclass(frozen=True)
class DemoItem:
    unit_id: int
    branch_id: int | None
    member_id: int | None
    source: str
    source_ref: str | None
    phase: str | None
    problem: str
    measures: str
    owner: str
    deadline: date
    status: str
    opened_at: datetime
    # Its last step is no later than this (a completed unit's items were verified before
    # it completed); None: the demo's moment.
    closed_by: datetime | None = None


@dataclass(frozen=True)
class RectificationCounts:
    items: int
    inspections: int
    findings: int


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _day(at: datetime) -> date:
    return at.astimezone(CAMPAIGN_TZ).date()


def write_items(conn: sa.Connection, items: list[DemoItem], now: datetime) -> list[int]:
    """Writes the items with ids of their own (answered in order) and every step that
    brought each to its status, spread between its opening and ``closed_by`` or ``now``."""
    t = metadata.tables
    table, steps_table = t["rectification_item"], t["rectification_step"]
    first = (conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    rows, steps = [], []
    for n, item in enumerate(items):
        item_id = first + n
        end = item.closed_by or now
        reached = ORDER[: ORDER.index(Status(item.status)) + 1]
        span = (end - item.opened_at) / len(reached)
        at = item.opened_at
        previous = None
        for k, status in enumerate(reached):
            at = item.opened_at + span * k
            steps.append(
                {
                    "item_id": item_id,
                    "from_status": previous,
                    "to_status": status.value,
                    "note": NOTES.get(status),
                    "at": at,
                    "user_id": None,
                    "username": "system",
                }
            )
            previous = status.value
        fields = {f: getattr(item, f) for f in DemoItem.__dataclass_fields__}
        del fields["opened_at"], fields["closed_by"]
        rows.append({**fields, "id": item_id, "created_at": item.opened_at, "updated_at": at})
    if rows:
        conn.execute(sa.insert(table), rows)
        conn.execute(sa.insert(steps_table), steps)
        reset_sequences(conn, [table])
    return [r["id"] for r in rows]


class _Maker:
    """Draws the demo's items and inspections, unit by unit."""

    def __init__(self, rng, phases: DemoPhases, campaign: DemoCampaign, now: datetime):
        self.rng, self.phases, self.now = rng, phases, now
        self.study_start = datetime.combine(
            campaign.study_starts_on, datetime.min.time(), CAMPAIGN_TZ
        )

    def state_at(self, unit_id: int, at: datetime) -> str:
        state = UnitState.study
        for later, entered in self.phases.entered.get(unit_id, {}).items():
            if entered <= at:
                state = later
        return state.value

    def closed_by(self, unit_id: int) -> datetime | None:
        return self.phases.entered.get(unit_id, {}).get(UnitState.completed)

    def item(
        self,
        unit_id: int,
        branches: list[int],
        state: UnitState,
        source: Source,
        problem: str,
        opened_at: datetime,
        source_ref: str | None = None,
    ) -> DemoItem:
        rng = self.rng
        status = _pick(rng, _ITEMS[state][2])
        deadline = _day(opened_at) + timedelta(days=rng.randint(10, 45))
        return DemoItem(
            unit_id=unit_id,
            branch_id=rng.choice(branches) if branches and rng.random() < 0.5 else None,
            member_id=None,
            source=source.value,
            source_ref=source_ref,
            phase=self.state_at(unit_id, opened_at),
            problem=problem,
            measures=rng.choice(MEASURES),
            owner=rng.choice(OWNERS),
            deadline=deadline,
            status=status.value,
            opened_at=opened_at,
            closed_by=self.closed_by(unit_id),
        )

    def opened_at(self, unit_id: int) -> datetime:
        """A moment between the start of study and the unit's completion (or now)."""
        end = self.closed_by(unit_id) or self.now
        seconds = (end - self.study_start).total_seconds()
        return self.study_start + timedelta(seconds=self.rng.uniform(0.05, 0.9) * seconds)


def write_rectification(
    conn: sa.Connection, phases: DemoPhases, campaign: DemoCampaign, seed: int, now: datetime
) -> RectificationCounts:
    rng = random.Random(f"rectification-{seed}")
    make = _Maker(rng, phases, campaign, now)
    t = metadata.tables
    branches: dict[int, list[int]] = defaultdict(list)
    for branch_id, unit_id in conn.execute(
        sa.select(t["branch"].c.id, t["branch"].c.unit_id).order_by(t["branch"].c.id)
    ):
        branches[unit_id].append(branch_id)
    moved = {u: s for s in (UnitState.evaluation, UnitState.rectification, UnitState.completed)
             for u in phases.in_state(s)}  # fmt: skip
    items: list[DemoItem] = []
    for unit_id in sorted(branches):
        state = moved.get(unit_id, UnitState.study)
        chance, (low, high), _ = _ITEMS[state]
        if rng.random() >= chance:
            continue
        for _ in range(rng.randint(low, high)):
            source = rng.choice(list(PROBLEMS))
            problem = rng.choice(PROBLEMS[source])
            items.append(
                make.item(
                    unit_id, branches[unit_id], state, source, problem, make.opened_at(unit_id)
                )
            )
    write_items(conn, items, now)
    visits, findings = _write_inspections(conn, rng, make, branches, moved, now)
    return RectificationCounts(len(items) + findings[1], visits, findings[0])


def _write_inspections(conn, rng, make: _Maker, branches, moved, now):
    """Inspections with their findings; a finding opens an item half the time. Answers the
    visits, and (findings, items opened)."""
    t = metadata.tables
    inspection, finding = t["inspection"], t["inspection_finding"]
    next_visit = (conn.scalar(sa.select(sa.func.max(inspection.c.id))) or 0) + 1
    next_finding = (conn.scalar(sa.select(sa.func.max(finding.c.id))) or 0) + 1
    next_item = (conn.scalar(sa.select(sa.func.max(t["rectification_item"].c.id))) or 0) + 1
    visits, found, opened = [], [], []
    for unit_id in sorted(branches):
        state = moved.get(unit_id, UnitState.study)
        if rng.random() >= _INSPECTED[state]:
            continue
        at = make.opened_at(unit_id)
        count = _pick(rng, _FINDINGS_PER_VISIT)
        team = [person_name(rng, rng.random() < 0.3) for _ in range(rng.randint(2, 3))]
        assessment = "poor" if count == 3 and rng.random() < 0.5 else _pick(rng, _ASSESSMENT)
        visits.append(
            {
                "id": next_visit,
                "unit_id": unit_id,
                "inspected_on": _day(at),
                "team": team,
                "assessment": assessment,
                "summary": None,
                "created_by": None,
                "created_at": at,
                "updated_at": at,
            }
        )
        for position, text in enumerate(rng.sample(FINDINGS, count)):
            item_id = None
            if rng.random() < 0.5:
                item_id = next_item + len(opened)
                ref = f"inspection:{next_visit}/finding:{next_finding}"
                opened.append(
                    make.item(unit_id, branches[unit_id], state, Source.inspection, text, at, ref)
                )
            found.append(
                {
                    "id": next_finding,
                    "inspection_id": next_visit,
                    "position": position,
                    "text": text,
                    "severity": _pick(rng, _SEVERITY),
                    "rectification_id": item_id,
                }
            )
            next_finding += 1
        next_visit += 1
    # The items first: the findings point at them.
    write_items(conn, opened, now)
    if visits:
        conn.execute(sa.insert(inspection), visits)
        reset_sequences(conn, [inspection])
    if found:
        conn.execute(sa.insert(finding), found)
        reset_sequences(conn, [finding])
    return len(visits), (len(found), len(opened))
