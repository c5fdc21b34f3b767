from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.clock import today
from app.org.models import Branch, District, Member, Unit
from app.study.models import MemberStudyTotal, StudySession
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.study import factories as study


@dataclass
class Place:
    """A district with one unit studying in batch 1, its branch and members."""

    batch_id: int
    district: District
    unit: Unit
    branch: Branch
    members: list[Member]


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def studied(session, member_id: int, batch_id: int, hours, last: date | None, phase="study"):
    """Sets a member's running total as the attendance write keeps it (sessions: 1 when
    something was attended)."""
    session.add(
        MemberStudyTotal(
            member_id=member_id,
            batch_id=batch_id,
            phase=phase,
            hours=Decimal(str(hours)),
            sessions=1 if last else 0,
            last_attended_on=last,
        )
    )
    session.commit()


def held(session, branch: Branch, batch_id: int, on: date, phase="study", **over) -> StudySession:
    over.setdefault("topic", "学习")
    return study.study_session(
        session, branch.id, branch.unit_id, batch_id, on, phase=phase, **over
    )


@pytest.fixture
def make_place(session):
    """``make_place(members=5, state="study", batch=None)``: a new district, unit and branch;
    the study window began 45 days ago (the 30-day rules apply); 10 hours required."""
    batches: dict[str, int] = {}

    def make(members: int = 5, state: str = "study", categories=(), batch_id=None) -> Place:
        if batch_id is None:
            if "default" not in batches:
                b = campaign.batch(session, min_hours=10, start=days_ago(45), days=60)
                batches["default"] = b.id
            batch_id = batches["default"]
        d = org.district(session)
        u = org.unit(session, d.id)
        br = org.branch(session, u.id)
        ms = [org.member(session, br.id, categories=categories) for _ in range(members)]
        campaign.enrol(session, u.id, batch_id, state)
        return Place(batch_id, d, u, br, ms)

    return make
