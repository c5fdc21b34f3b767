"""Rectification items and inspections for arranging tests, written straight to the
database (the API's own writes are what the tests exercise)."""

from datetime import date, timedelta

from sqlmodel import Session

from app.clock import today
from app.inspection.models import Inspection, InspectionFinding
from app.rectification.enums import RectificationStatus
from app.rectification.models import RectificationItem, RectificationStep

ORDER = list(RectificationStatus)


def item(
    session: Session,
    unit_id: int,
    *,
    branch_id: int | None = None,
    status: str = "open",
    deadline: date | None = None,
    source: str = "self_found",
    **over,
) -> RectificationItem:
    """An item with the steps that brought it to ``status``."""
    obj = RectificationItem(
        unit_id=unit_id,
        branch_id=branch_id,
        source=source,
        problem=over.pop("problem", "学习记录不全"),
        measures=over.pop("measures", "补齐学习记录"),
        owner=over.pop("owner", "支部书记"),
        deadline=deadline or today() + timedelta(days=30),
        status=status,
        **over,
    )
    session.add(obj)
    session.flush()
    reached = ORDER[: ORDER.index(RectificationStatus(status)) + 1]
    previous = None
    for s in reached:
        session.add(
            RectificationStep(
                item_id=obj.id, from_status=previous, to_status=s.value, username="factory"
            )
        )
        previous = s.value
    session.commit()
    return obj


def inspection(
    session: Session, unit_id: int, *, on: date | None = None, findings: int = 1, **over
) -> Inspection:
    obj = Inspection(
        unit_id=unit_id,
        inspected_on=on or today(),
        team=over.pop("team", ["张组长", "李组员"]),
        assessment=over.pop("assessment", "fair"),
        **over,
    )
    session.add(obj)
    session.flush()
    for i in range(findings):
        session.add(
            InspectionFinding(inspection_id=obj.id, position=i, text=f"问题{i}", severity="low")
        )
    session.commit()
    return obj
