"""Study sessions for arranging tests, written straight to the database with the branch's
session totals moved as the service moves them (the reports read those totals)."""

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from app.clock import today
from app.study import branch_totals
from app.study.models import StudySession


def study_session(
    session: Session,
    branch_id: int,
    unit_id: int,
    batch_id: int,
    held_on: date | None = None,
    *,
    phase: str = "study",
    commit: bool = True,
    **over,
) -> StudySession:
    s = StudySession(
        branch_id=branch_id,
        unit_id=unit_id,
        batch_id=batch_id,
        phase=phase,
        held_on=held_on or today(),
        format=over.pop("format", "seminar"),
        hours=over.pop("hours", Decimal(2)),
        topic=over.pop("topic", "专题讨论"),
        **over,
    )
    session.add(s)
    session.flush()
    branch_totals.move(session, None, branch_totals.held(s))
    if commit:
        session.commit()
    return s
