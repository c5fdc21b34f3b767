"""Queries of evaluations. Members are placed by their branch as it is now; a member is
"due" in a unit's batch unless exempted from that batch's evaluation phase."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.campaign.enums import Phase
from app.campaign.models import MemberExemption
from app.evaluation.models import Evaluation
from app.org.enums import MemberStatus
from app.org.models import Branch, Member

# Through coalesce, so that the status cannot drive an index: SQLite keeps no statistics
# (nothing ANALYZEs it) and took ix_member_status for selective, walking every active
# member of the city for each branch (6 s for the report at scale 1, instead of 50 ms).
ACTIVE = sa.func.coalesce(Member.status, "") == MemberStatus.active.value


def exempted_on(batch_id: int | sa.ColumnElement) -> sa.ColumnElement[bool]:
    """The member (of the enclosing query) is exempted from the batch's evaluation phase."""
    return sa.exists().where(
        MemberExemption.member_id == Member.id,
        MemberExemption.batch_id == batch_id,
        MemberExemption.phase == Phase.evaluation.value,
    )


def evaluated_on(batch_id: int | sa.ColumnElement) -> sa.ColumnElement[bool]:
    return sa.exists().where(Evaluation.member_id == Member.id, Evaluation.batch_id == batch_id)


def active_members(session: Session, branch_id: int) -> set[int]:
    return set(session.scalars(sa.select(Member.id).where(Member.branch_id == branch_id, ACTIVE)))


def branch_set(session: Session, batch_id: int, branch_id: int) -> list[sa.Row]:
    """The evaluations of the branch's active members in the batch (the set a PUT replaces):
    member_id, rating, measure, comment."""
    e = Evaluation
    return list(
        session.execute(
            sa.select(e.member_id, e.rating, e.measure, e.comment)
            .join(Member, Member.id == e.member_id)
            .where(e.batch_id == batch_id, Member.branch_id == branch_id, ACTIVE)
        )
    )


def branch_view(session: Session, batch_id: int, branch_id: int) -> list[sa.Row]:
    """Every active member of the branch with their evaluation (if any) and whether they are
    exempted from the evaluation phase, by member id."""
    e = Evaluation
    return list(
        session.execute(
            sa.select(
                Member.id.label("member_id"),
                Member.name,
                e.rating,
                e.measure,
                e.comment,
                e.evaluated_at,
                exempted_on(batch_id).label("exempted"),
            )
            .outerjoin(e, sa.and_(e.member_id == Member.id, e.batch_id == batch_id))
            .where(Member.branch_id == branch_id, ACTIVE)
            .order_by(Member.id)
        )
    )


def due_not_evaluated(unit_id: int, batch_id: int) -> sa.Select:
    """Active members of the unit, not exempted, with no evaluation in the batch: member_id,
    name, branch_id, in branch code order."""
    return (
        sa.select(Member.id.label("member_id"), Member.name, Member.branch_id)
        .join(Branch, Branch.id == Member.branch_id)
        .where(
            Branch.unit_id == unit_id,
            ACTIVE,
            ~evaluated_on(batch_id),
            ~exempted_on(batch_id),
        )
        .order_by(Branch.code, Member.id)
    )
