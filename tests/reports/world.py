"""A random organisation with a campaign, sessions and attendance, built from a seed.

The registry and the enrolments are written with the factories; sessions and attendance go
through the real API (so the running totals are kept by the attendance write itself). Then
a few members leave or move, so that the reports must read the tree as it is now.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from app.campaign.models import Batch, BatchPhase, Campaign, MemberExemption, UnitProgress
from app.clock import today
from app.org.models import Member
from app.study.enums import AttendanceStatus, SessionFormat
from tests.org import factories as org

PHASES = ("study", "evaluation", "rectification")
STATES = ("not_started", "study", "evaluation", "rectification", "completed")
CATEGORIES = ("migrant", "outgoing", "retired", "infirm")


@dataclass
class World:
    batch_ids: list[int]
    district_ids: list[int] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)
    branch_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)


def _batch(session: Session, number: int, starts: list[int], hours: list[str]) -> Batch:
    """Three windows of 40 days, the n-th starting ``starts[n]`` days from today."""
    campaign = Campaign(name=f"运动{number}")
    session.add(campaign)
    session.flush()
    b = Batch(campaign_id=campaign.id, number=number, name=f"第{number}批")
    session.add(b)
    session.flush()
    for phase, start, h in zip(PHASES, starts, hours, strict=True):
        begins = today() + timedelta(days=start)
        session.add(
            BatchPhase(
                batch_id=b.id,
                phase=phase,
                starts_on=begins,
                ends_on=begins + timedelta(days=39),
                min_hours=Decimal(h),
                min_coverage=Decimal("0.9"),
            )
        )
    session.commit()
    return b


def build(session: Session, client, seed: int) -> World:
    rnd = random.Random(seed)
    # Batch 1 has been through all its phases' windows; batch 2 is studying, 35 days in.
    first = _batch(session, 1, [-100, -60, -20], [rnd.choice(["4", "6"]), "2.5", "1"])
    second = _batch(session, 2, [-35, 5, 45], ["3", "0", "0"])
    world = World(batch_ids=[first.id, second.id])
    windows = {(p.batch_id, p.phase): p for p in session.scalars(sa.select(BatchPhase))}
    enrolment: dict[int, tuple[int, str]] = {}  # unit -> (batch, state)
    members_of: dict[int, list[Member]] = {}
    unit_of: dict[int, int] = {}
    for _ in range(rnd.randint(2, 3)):
        d = org.district(session)
        world.district_ids.append(d.id)
        for _ in range(rnd.randint(1, 3)):
            u = org.unit(session, d.id)
            world.unit_ids.append(u.id)
            choice = rnd.random()
            if choice < 0.5:
                enrolment[u.id] = (first.id, rnd.choice(STATES))
            elif choice < 0.85:
                enrolment[u.id] = (second.id, rnd.choice(STATES[:2]))
            if u.id in enrolment:
                batch_id, state = enrolment[u.id]
                session.add(UnitProgress(unit_id=u.id, batch_id=batch_id, state=state))
                session.commit()
            for _ in range(rnd.randint(1, 3)):
                b = org.branch(session, u.id)
                world.branch_ids.append(b.id)
                unit_of[b.id] = u.id
                members_of[b.id] = []
                for _ in range(rnd.choice([0, 1, 2, 4, 6, 8])):
                    cats = [c for c in CATEGORIES if rnd.random() < 0.25]
                    m = org.member(session, b.id, categories=cats)
                    members_of[b.id].append(m)
                    world.member_ids.append(m.id)

    # Exemptions, in a phase the member's unit may or may not be measured in.
    for branch_id, members in members_of.items():
        unit_id = unit_of[branch_id]
        if unit_id not in enrolment:
            continue
        for m in members:
            if rnd.random() < 0.1:
                session.add(
                    MemberExemption(
                        member_id=m.id,
                        batch_id=enrolment[unit_id][0],
                        phase=rnd.choice(PHASES),
                        reason="abroad",
                    )
                )
    session.commit()

    # Sessions through the API, in phases whose windows have begun, never in the future.
    guests_by_batch: dict[int, list[Member]] = {}
    for branch_id, members in members_of.items():
        unit_id = unit_of[branch_id]
        if unit_id in enrolment:
            for m in members:
                if m.is_migrant or m.is_outgoing:
                    guests_by_batch.setdefault(enrolment[unit_id][0], []).append(m)
    for branch_id, members in members_of.items():
        unit_id = unit_of[branch_id]
        if unit_id not in enrolment or rnd.random() < 0.15:
            continue
        batch_id = enrolment[unit_id][0]
        for _ in range(rnd.randint(0, 4)):
            phase = rnd.choice([p for p in PHASES if windows[(batch_id, p)].starts_on <= today()])
            w = windows[(batch_id, phase)]
            last = min(w.ends_on, today())
            held_on = w.starts_on + timedelta(days=rnd.randint(0, (last - w.starts_on).days))
            hours = Decimal(rnd.choice(["1", "1.5", "2", "3", "4"]))
            records = []
            for m in members:
                if rnd.random() < 0.7:
                    records.append(_record(rnd, m.id, hours))
            for g in guests_by_batch.get(batch_id, []):
                if g.branch_id != branch_id and rnd.random() < 0.2:
                    records.append(_record(rnd, g.id, hours))
            r = client.post(
                "/api/v1/sessions",
                json={
                    "branch_id": branch_id,
                    "phase": phase,
                    "held_on": held_on.isoformat(),
                    "format": rnd.choice(list(SessionFormat)).value,
                    "hours": str(hours),
                    "topic": "学习",
                    "lecturer_is_leading_cadre": rnd.random() < 0.3,
                    "attendance": records,
                },
            )
            assert r.status_code == 201, r.text

    # Afterwards: some members leave (their attendance stays), some move branch.
    session.expire_all()
    for m in session.scalars(sa.select(Member)).all():
        roll = rnd.random()
        if roll < 0.05:
            m.status = "transferred_out"
        elif roll < 0.1:
            m.branch_id = rnd.choice(world.branch_ids)
    session.commit()
    return world


def _record(rnd: random.Random, member_id: int, hours: Decimal) -> dict:
    status = rnd.choice(list(AttendanceStatus)).value
    record = {"member_id": member_id, "status": status}
    if status in ("present", "late") and rnd.random() < 0.2:
        record["hours"] = str(max(Decimal("0.5"), hours - Decimal("0.5")))
    return record


def day() -> date:
    return today()
