"""The rectification report (整改情况): items per status at a level of the tree, and the
overdue items. Counted in SQL over the caller's items, one GROUP BY per answer."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.models import District, Unit
from app.org.scope import district_condition
from app.rectification.enums import RectificationStatus
from app.rectification.models import RectificationItem
from app.rectification.repository import item_condition, overdue_condition
from app.reports.measured import check_places

# The overdue list is for reading, not export: past this many the total still counts them all.
OVERDUE_LISTED = 500


class Level(StrEnum):
    city = "city"
    district = "district"
    unit = "unit"


@dataclass(frozen=True)
class ReportFilter:
    district_id: int | None = None
    unit_id: int | None = None
    source: str | None = None


class StatusCounts(BaseModel):
    id: int | None = Field(description="The district's or unit's id; null for the city.")
    code: str | None
    name: str
    items: int = 0
    open: int = 0
    in_progress: int = 0
    done: int = 0
    verified: int = 0
    overdue: int = Field(0, description="Past the deadline and still open or in progress.")


class OverdueItem(BaseModel):
    id: int
    unit_id: int
    unit_name: str
    district_id: int
    district_name: str
    branch_id: int | None
    problem: str
    owner: str
    deadline: date
    status: RectificationStatus
    days_overdue: int


class RectificationReport(BaseModel):
    level: Level
    as_of: date
    rows: list[StatusCounts] = Field(
        description="Districts: every district in scope; units: those with items."
    )
    total: StatusCounts
    overdue_total: int
    overdue_items: list[OverdueItem] = Field(
        description=f"The most overdue first, at most {OVERDUE_LISTED}."
    )


def _filtered(p: Principal, f: ReportFilter) -> list[sa.ColumnElement[bool]]:
    where = [item_condition(p)]
    if f.unit_id is not None:
        where.append(RectificationItem.unit_id == f.unit_id)
    if f.district_id is not None:
        where.append(Unit.district_id == f.district_id)
    if f.source is not None:
        where.append(RectificationItem.source == f.source)
    return where


def _counts(on: date) -> list[sa.ColumnElement]:
    def when(condition: sa.ColumnElement[bool], name: str) -> sa.ColumnElement:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0).label(name)

    return [
        sa.func.count(RectificationItem.id).label("items"),
        *(when(RectificationItem.status == s.value, s.value) for s in RectificationStatus),
        when(overdue_condition(on), "overdue"),
    ]


def _count_fields(row) -> dict[str, int]:
    names = ["items", *(s.value for s in RectificationStatus), "overdue"]
    return {n: int(getattr(row, n) or 0) for n in names}


def rectification_report(
    session: Session, principal: Principal, level: Level, f: ReportFilter, on: date
) -> RectificationReport:
    check_places(session, principal, district_id=f.district_id, unit_id=f.unit_id)
    where = _filtered(principal, f)
    items = sa.select(*_counts(on)).join(Unit, Unit.id == RectificationItem.unit_id).where(*where)
    total = StatusCounts(
        id=None, code=None, name="合计", **_count_fields(session.execute(items).one())
    )
    rows: list[StatusCounts] = []
    if level is Level.district:
        counted = {
            r.district_id: r
            for r in session.execute(items.add_columns(Unit.district_id).group_by(Unit.district_id))
        }
        districts = sa.select(District).where(district_condition(principal))
        if f.district_id is not None:
            districts = districts.where(District.id == f.district_id)
        for d in session.scalars(districts.order_by(District.code)):
            counts = _count_fields(counted[d.id]) if d.id in counted else {}
            rows.append(StatusCounts(id=d.id, code=d.code, name=d.name, **counts))
    elif level is Level.unit:
        stmt = items.add_columns(Unit.id, Unit.code, Unit.name).group_by(
            Unit.id, Unit.code, Unit.name
        )
        rows = [
            StatusCounts(id=r.id, code=r.code, name=r.name, **_count_fields(r))
            for r in session.execute(stmt.order_by(Unit.code))
        ]
    overdue = [*where, overdue_condition(on)]
    listed = session.execute(
        sa.select(
            RectificationItem,
            Unit.name.label("unit_name"),
            Unit.district_id,
            District.name.label("district_name"),
        )
        .join(Unit, Unit.id == RectificationItem.unit_id)
        .join(District, District.id == Unit.district_id)
        .where(*overdue)
        .order_by(RectificationItem.deadline, RectificationItem.id)
        .limit(OVERDUE_LISTED)
    ).all()
    return RectificationReport(
        level=level,
        as_of=on,
        rows=rows if level is not Level.city else [total.model_copy(update={"name": "全市"})],
        total=total,
        overdue_total=total.overdue,
        overdue_items=[
            OverdueItem(
                id=item.id,
                unit_id=item.unit_id,
                unit_name=unit_name,
                district_id=district_id,
                district_name=district_name,
                branch_id=item.branch_id,
                problem=item.problem,
                owner=item.owner,
                deadline=item.deadline,
                status=RectificationStatus(item.status),
                days_overdue=(on - item.deadline).days,
            )
            for item, unit_name, district_id, district_name in listed
        ],
    )
