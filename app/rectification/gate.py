"""The completion gate: a unit reaches ``completed`` only when every rectification item of
it is verified (DESIGN.md). Called by app/campaign/progress.py when a unit leaves
``rectification``; imports nothing of the campaign, so there is no cycle."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.rectification.enums import RectificationStatus
from app.rectification.models import RectificationItem

# The 409 lists at most this many items; ``unverified`` counts them all.
LISTED = 200


class RectificationUnverified(Conflict):
    type, title = "rectification-unverified", "The unit has rectification items not yet verified"


def unverified(session: Session, unit_id: int) -> tuple[int, list[dict]]:
    """How many items of the unit are not verified, and the first of them by deadline."""
    condition = sa.and_(
        RectificationItem.unit_id == unit_id,
        RectificationItem.status != RectificationStatus.verified.value,
    )
    count = session.scalar(sa.select(sa.func.count()).where(condition)) or 0
    rows = session.execute(
        sa.select(
            RectificationItem.id,
            RectificationItem.status,
            RectificationItem.source,
            RectificationItem.problem,
            RectificationItem.owner,
            RectificationItem.deadline,
        )
        .where(condition)
        .order_by(RectificationItem.deadline, RectificationItem.id)
        .limit(LISTED)
    ).all()
    return count, [
        {
            "id": r.id,
            "status": r.status,
            "source": r.source,
            "problem": r.problem,
            "owner": r.owner,
            "deadline": r.deadline.isoformat(),
        }
        for r in rows
    ]


def check_completion(session: Session, unit_id: int, override_reason: str | None) -> str | None:
    """Refuses (409, with the list) a unit whose items are not all verified, unless an
    override reason is given; answers the reason when it was needed, for the audit."""
    count, items = unverified(session, unit_id)
    if count == 0:
        return None
    if override_reason is None:
        raise RectificationUnverified(
            f"Unit {unit_id} has {count} rectification item(s) not yet verified; a district "
            "or city admin may override with a reason.",
            extensions={"unverified": count, "items": items},
        )
    return override_reason
