"""The demo past study (issue 9, item 6): units moved on as the advance would have moved
them, rectification items in every status with their steps, inspections with findings, and
the completion gate working on them as a new user would try it."""

import dataclasses
from collections import Counter, defaultdict
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.campaign.enums import UnitState
from app.clock import CAMPAIGN_TZ, today
from app.demo import seed_demo
from app.demo.phases import OVERRIDE_REASON, demo_user_units, ready_units
from app.models import metadata
from tests.demo.rows import empty

T = metadata.tables
ORDER = ["open", "in_progress", "done", "verified"]


@dataclasses.dataclass(frozen=True)
class Seeded:
    progress: dict[int, Any]
    moves: dict[int, list[Any]]
    ready: set[int]
    demo_units: list[int]
    items: list[Any]
    steps: dict[int, list[Any]]
    inspections: dict[int, Any]
    findings: list[Any]
    branch_unit: dict[int, int]


@pytest.fixture(scope="module")
def seeded(_engine: Engine) -> Seeded:
    """The demo at scale 0.05, read back and the database emptied again at once."""
    try:
        seed_demo(_engine, scale=0.05, seed=7)
        with _engine.connect() as conn:
            moves = defaultdict(list)
            for m in conn.execute(sa.select(T["phase_move"]).order_by(T["phase_move"].c.id)):
                moves[m.unit_id].append(m)
            steps = defaultdict(list)
            for s in conn.execute(
                sa.select(T["rectification_step"]).order_by(T["rectification_step"].c.id)
            ):
                steps[s.item_id].append(s)
            batch_id = conn.scalar(sa.select(T["batch"].c.id))
            return Seeded(
                progress={p.unit_id: p for p in conn.execute(sa.select(T["unit_progress"]))},
                moves=moves,
                ready=ready_units(conn, batch_id),
                demo_units=demo_user_units(conn),
                items=conn.execute(sa.select(T["rectification_item"])).all(),
                steps=steps,
                inspections={i.id: i for i in conn.execute(sa.select(T["inspection"]))},
                findings=conn.execute(sa.select(T["inspection_finding"])).all(),
                branch_unit=dict(
                    conn.execute(sa.select(T["branch"].c.id, T["branch"].c.unit_id)).all()
                ),
            )
    finally:
        empty(_engine)


def test_units_move_one_step_at_a_time_ready_ones_or_by_override(seeded):
    order = [s.value for s in UnitState]
    states = Counter(p.state for p in seeded.progress.values())
    assert all(states[s] >= 2 for s in ("evaluation", "rectification", "completed"))
    for unit_id, p in seeded.progress.items():
        moves = seeded.moves[unit_id]
        assert [(m.from_state, m.to_state) for m in moves] == [
            (order[i], order[i + 1]) for i in range(order.index(p.state))
        ]
        assert [m.at for m in moves] == sorted(m.at for m in moves)
        assert p.entered_at == moves[-1].at and p.version == len(moves) - 1
        overridden = [m for m in moves if m.override_reason]
        if p.state != "study" and unit_id not in seeded.ready:
            assert unit_id in seeded.demo_units
            assert [m.override_reason for m in overridden] == [OVERRIDE_REASON]
        else:
            assert not overridden
    # The demo inspector's second and third units are there to try the gates on.
    second, third = seeded.demo_units[1:3]
    assert (seeded.progress[second].state, seeded.progress[third].state) == (
        "rectification",
        "evaluation",
    )
    assert seeded.progress[seeded.demo_units[0]].state == "study"


def test_items_in_every_status_each_with_the_steps_that_brought_it_there(seeded):
    assert set(Counter(i.status for i in seeded.items)) == set(ORDER)
    assert {"look_back", "public_feedback", "self_found", "inspection"} <= {
        i.source for i in seeded.items
    }
    for item in seeded.items:
        steps = seeded.steps[item.id]
        assert [s.to_status for s in steps] == ORDER[: ORDER.index(item.status) + 1]
        assert [s.from_status for s in steps] == [None, *ORDER[: ORDER.index(item.status)]]
        assert all(s.note for s in steps[1:])
        assert steps[0].at == item.created_at and steps[-1].at == item.updated_at
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        assert item.deadline >= item.created_at.astimezone(CAMPAIGN_TZ).date()
        assert item.branch_id is None or seeded.branch_unit[item.branch_id] == item.unit_id
        # The phase recorded is the unit's state when the item was opened.
        entered = [m for m in seeded.moves[item.unit_id] if m.at <= item.created_at]
        assert item.phase == entered[-1].to_state
    overdue = [i for i in seeded.items if i.status in ORDER[:2] and i.deadline < today()]
    assert overdue, "the report's overdue list has something to show"


def test_the_gate_holds_in_the_demo_completed_units_have_only_verified_items(seeded):
    by_state = defaultdict(Counter)
    for item in seeded.items:
        by_state[seeded.progress[item.unit_id].state][item.status] += 1
    assert set(by_state["completed"]) == {"verified"}
    assert set(by_state["rectification"]) == set(ORDER)
    for item in seeded.items:
        if seeded.progress[item.unit_id].state == "completed":
            assert item.updated_at <= seeded.moves[item.unit_id][-1].at


def test_inspections_with_findings_some_opening_items(seeded):
    assert seeded.inspections and seeded.findings
    items = {i.id: i for i in seeded.items}
    per_visit = defaultdict(list)
    for f in seeded.findings:
        per_visit[f.inspection_id].append(f.position)
        if f.rectification_id is not None:
            item = items[f.rectification_id]
            visit = seeded.inspections[f.inspection_id]
            assert (item.source, item.unit_id, item.problem) == (
                "inspection",
                visit.unit_id,
                f.text,
            )
            assert item.source_ref == f"inspection:{visit.id}/finding:{f.id}"
    assert all(sorted(p) == list(range(len(p))) for p in per_visit.values())
    assert any(f.rectification_id for f in seeded.findings)
    assert any(f.rectification_id is None for f in seeded.findings)
    for visit in seeded.inspections.values():
        assert visit.inspected_on <= today() and 2 <= len(visit.team) <= 3
    inspected = {v.unit_id for v in seeded.inspections.values()}
    past = {u for u, p in seeded.progress.items() if p.state != "study"}
    assert len(inspected & past) > 0.4 * len(past) and inspected - past


def test_tried_as_a_new_user_the_gate_refuses_then_the_unit_completes(engine, client):
    seed_demo(engine, scale=0.05, seed=7)
    with engine.connect() as conn:
        unit_id = conn.scalar(
            sa.select(T["rectification_item"].c.unit_id)
            .join(
                T["unit_progress"],
                T["unit_progress"].c.unit_id == T["rectification_item"].c.unit_id,
            )
            .where(T["unit_progress"].c.state == "rectification")
            .where(T["rectification_item"].c.status != "verified")
            .limit(1)
        )
    r = client.post(f"/api/v1/units/{unit_id}/advance", json={"to": "completed"})
    assert r.status_code == 409, r.text
    listed = r.json()["items"]
    assert listed and r.json()["unverified"] == len(listed)
    for item in listed:
        for to in ORDER[ORDER.index(item["status"]) + 1 :]:
            step = client.post(
                f"/api/v1/rectifications/{item['id']}/transitions", json={"to": to, "note": "核查"}
            )
            assert step.status_code == 200, step.text
    r = client.post(f"/api/v1/units/{unit_id}/advance", json={"to": "completed"})
    assert r.status_code == 200 and r.json()["state"] == "completed"
    report = client.get("/api/v1/reports/rectifications", params={"level": "city"}).json()
    with engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.count()).select_from(T["rectification_item"]))
    assert report["total"]["items"] == total and report["overdue_total"] > 0
    inspections = client.get("/api/v1/reports/inspections").json()
    assert inspections["total"]["units"] == 73
    assert inspections["total"]["inspected_units"] + len(inspections["never_inspected"]) == 73
