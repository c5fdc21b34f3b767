"""The gaps report: members with a study gap in their unit's measured phase, the most hours
missing first, with the remedy to reach them.

The rule is the member study view's (app/study/member_view.py ``gap_reasons``) written as
SQL over the running totals, and the remedy is the look-back's ``remedy_for``; tests pin the
report to both, member by member.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.campaign.enums import Phase, Remedy
from app.campaign.lookback import remedy_for
from app.campaign.models import UnitProgress
from app.org.enums import MemberCategory
from app.org.models import CATEGORY_COLUMNS, Branch, Member, Unit
from app.reports.enums import GapReason
from app.reports.listing import ListReport
from app.reports.measured import ReportFilter, check_filter, check_places, member_rows
from app.reports.schemas import GapRow

_FLAGS = [(c, getattr(Member, CATEGORY_COLUMNS[c])) for c in MemberCategory]


@dataclass(frozen=True)
class GapFilter(ReportFilter):
    district_id: int | None = None
    unit_id: int | None = None
    branch_id: int | None = None
    category: MemberCategory | None = None
    remedy: Remedy | None = None


def remedy_of_member() -> sa.ColumnElement[str]:
    """``remedy_for`` as SQL over the member's category flags (for filtering by remedy)."""
    away = sa.or_(Member.is_migrant.is_(True), Member.is_outgoing.is_(True))
    home = sa.or_(Member.is_retired.is_(True), Member.is_infirm.is_(True))
    return sa.case(
        (away, Remedy.distance_learning.value),
        (home, Remedy.home_delivery.value),
        else_=Remedy.make_up.value,
    )


def _among(f: GapFilter) -> sa.ColumnElement[bool] | None:
    """The filters' places as a condition on the measured units (see ``measured_units``)."""
    unit_id = UnitProgress.unit_id
    if f.branch_id is not None:
        branch = sa.orm.aliased(Branch)
        return (
            unit_id == sa.select(branch.unit_id).where(branch.id == f.branch_id).scalar_subquery()
        )
    if f.unit_id is not None:
        return unit_id == f.unit_id
    if f.district_id is not None:
        unit = sa.orm.aliased(Unit)
        return unit_id.in_(sa.select(unit.id).where(unit.district_id == f.district_id))
    return None


def gaps_statement(principal: Principal, f: GapFilter) -> sa.Select:
    stmt, c = member_rows(f, principal, among=_among(f))
    ms = c.measured
    hours = c.hours
    below = hours < ms.c.min_hours
    last = c.total.last_attended_on
    inactive = sa.and_(ms.c.running.is_(True), sa.or_(last.is_(None), last < f.inactive_before))
    missing = sa.case((below, ms.c.min_hours - hours), else_=0)
    stmt = stmt.add_columns(
        Member.id.label("member_id"),
        Member.name.label("member_name"),
        *(flag.label(f"is_{c.value}") for c, flag in _FLAGS),
        Branch.id.label("branch_id"),
        Branch.name.label("branch_name"),
        Unit.id.label("unit_id"),
        Unit.name.label("unit_name"),
        ms.c.phase,
        hours.label("hours"),
        ms.c.min_hours.label("required"),
        missing.label("missing_hours"),
        last.label("last_attended_on"),
        sa.case((below, sa.true()), else_=sa.false()).label("below"),
        sa.case((inactive, sa.true()), else_=sa.false()).label("inactive"),
    ).where(sa.or_(below, inactive))
    for column, value in (
        (Unit.district_id, f.district_id),
        (Unit.id, f.unit_id),
        (Branch.id, f.branch_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.category is not None:
        stmt = stmt.where(getattr(Member, CATEGORY_COLUMNS[f.category]).is_(True))
    if f.remedy is not None:
        stmt = stmt.where(remedy_of_member() == f.remedy.value)
    return stmt.order_by(missing.desc(), Member.id)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def gaps(session: Session, principal: Principal, f: GapFilter) -> ListReport[GapRow]:
    """Members with a gap in the caller's scope (and the filters' places, 404 when out of
    it), the most hours missing first, then by member id."""
    check_filter(session, f)
    check_places(
        session, principal, district_id=f.district_id, unit_id=f.unit_id, branch_id=f.branch_id
    )
    day = f.day

    def shape(r: Any) -> GapRow:
        categories = [c for c, _ in _FLAGS if getattr(r, f"is_{c.value}")]
        last = r.last_attended_on
        reasons = [GapReason.below_hours] if r.below else []
        if r.inactive:
            reasons.append(GapReason.inactive_30d)
        return GapRow.model_construct(
            member_id=r.member_id,
            member_name=r.member_name,
            branch_id=r.branch_id,
            branch_name=r.branch_name,
            unit_id=r.unit_id,
            unit_name=r.unit_name,
            categories=categories,
            phase=Phase(r.phase),
            hours=float(_decimal(r.hours)),
            required=float(_decimal(r.required)),
            missing_hours=float(_decimal(r.missing_hours)),
            last_attended_on=last,
            days_since=(day - last).days if last is not None else None,
            reasons=reasons,
            remedy=remedy_for(categories),
        )

    return ListReport(gaps_statement(principal, f), shape)
