"""The evaluation gate: a unit leaves ``evaluation`` only when every active member of it
has been evaluated in its batch (members exempted from the evaluation phase aside). Called
by app/campaign/progress.py; imports nothing of the campaign's services, so there is no
cycle."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.evaluation.repository import due_not_evaluated

# The 409 lists at most this many members; ``not_evaluated`` counts them all, and
# GET /api/v1/reports/evaluations/not-evaluated?unit_id= pages through every one.
LISTED = 200


class EvaluationIncomplete(Conflict):
    type, title = "evaluation-incomplete", "Members of the unit are not yet evaluated"


def not_evaluated(session: Session, unit_id: int, batch_id: int) -> tuple[int, list[dict]]:
    """How many members of the unit are due and not evaluated, and the first of them."""
    stmt = due_not_evaluated(unit_id, batch_id)
    count = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.limit(LISTED)).all()
    return count or 0, [
        {"member_id": r.member_id, "name": r.name, "branch_id": r.branch_id} for r in rows
    ]


def check_evaluated(
    session: Session, unit_id: int, batch_id: int, override_reason: str | None
) -> str | None:
    """Refuses (409, with the members) a unit whose members are not all evaluated, unless an
    override reason is given; answers the reason when it was needed, for the audit."""
    count, members = not_evaluated(session, unit_id, batch_id)
    if count == 0:
        return None
    if override_reason is None:
        raise EvaluationIncomplete(
            f"Unit {unit_id} has {count} member(s) not yet evaluated (民主评议); record their "
            "evaluations, or a district or city admin may override with a reason.",
            extensions={"not_evaluated": count, "members": members},
        )
    return override_reason
