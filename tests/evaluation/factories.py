"""Evaluations for arranging tests, written straight to the database."""

import sqlalchemy as sa
from sqlmodel import Session

from app.evaluation.models import Evaluation
from app.org.models import Branch, Member


def evaluate(
    session: Session,
    member_id: int,
    batch_id: int,
    rating: str = "qualified",
    measure: str | None = None,
) -> Evaluation:
    e = session.get(Evaluation, (batch_id, member_id))
    if e is None:
        e = Evaluation(batch_id=batch_id, member_id=member_id, rating=rating)
        session.add(e)
    e.rating, e.measure = rating, measure
    session.commit()
    return e


def evaluate_unit(session: Session, unit_id: int, batch_id: int) -> None:
    """Rates every active member of the unit not yet evaluated in the batch as qualified."""
    done = sa.select(Evaluation.member_id).where(Evaluation.batch_id == batch_id)
    members = session.scalars(
        sa.select(Member.id)
        .join(Branch, Branch.id == Member.branch_id)
        .where(Branch.unit_id == unit_id, Member.status == "active", Member.id.not_in(done))
    ).all()
    for m in members:
        session.add(Evaluation(batch_id=batch_id, member_id=m, rating="qualified"))
    session.commit()
