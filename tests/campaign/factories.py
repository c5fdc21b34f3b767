"""Campaign objects for arranging tests, written straight to the database."""

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from app.campaign.models import Batch, BatchPhase, Campaign, UnitProgress
from app.clock import today
from app.study.models import MemberStudyTotal


def windows(start: date | None = None, days: int = 30) -> dict[str, dict[str, str]]:
    """Three consecutive windows of ``days`` each; by default study is running today."""
    start = start or today() - timedelta(days=days // 2)
    out = {}
    for i, phase in enumerate(("study", "evaluation", "rectification")):
        begins = start + timedelta(days=i * days)
        out[phase] = {
            "starts_on": begins.isoformat(),
            "ends_on": (begins + timedelta(days=days - 1)).isoformat(),
        }
    return out


def batch(session: Session, number: int = 1, min_hours=40, min_coverage="0.95", **over) -> Batch:
    campaign = Campaign(name="保持共产党员先进性教育活动")
    session.add(campaign)
    session.flush()
    b = Batch(campaign_id=campaign.id, number=number, name=f"第{number}批")
    session.add(b)
    session.flush()
    for phase, w in windows(**over).items():
        session.add(
            BatchPhase(
                batch_id=b.id,
                phase=phase,
                starts_on=date.fromisoformat(w["starts_on"]),
                ends_on=date.fromisoformat(w["ends_on"]),
                min_hours=Decimal(min_hours if phase == "study" else 0),
                min_coverage=Decimal(min_coverage),
            )
        )
    session.commit()
    return b


def enrol(session: Session, unit_id: int, batch_id: int, state: str = "study") -> UnitProgress:
    p = UnitProgress(unit_id=unit_id, batch_id=batch_id, state=state)
    session.add(p)
    session.commit()
    return p


def hours(session: Session, member_id: int, batch_id: int, h, phase: str = "study") -> None:
    """Sets a member's running total, as the attendance write will keep it."""
    total = session.get(MemberStudyTotal, (member_id, batch_id, phase))
    if total is None:
        total = MemberStudyTotal(member_id=member_id, batch_id=batch_id, phase=phase)
        session.add(total)
    total.hours = Decimal(str(h))
    session.commit()
