"""Dead corners (死角): branches where a category has members but none of them attended
anything in the measured phase. One statement: each counted member joined to each of their
categories, grouped by branch and category, kept where nobody took part."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.enums import MemberCategory
from app.org.models import CATEGORY_COLUMNS, Branch, District, Member, Unit
from app.reports.listing import ListReport
from app.reports.measured import ReportFilter, check_filter, member_rows
from app.reports.schemas import DeadCorner

_CATEGORIES = list(MemberCategory)


def _categories() -> sa.Subquery:
    """The four categories as rows (a UNION ALL of literals: SQLite has no VALUES alias)."""
    return sa.union_all(
        *(sa.select(sa.literal(c.value, sa.String).label("category")) for c in _CATEGORIES)
    ).subquery("category")


def dead_corners_statement(principal: Principal, f: ReportFilter) -> sa.Select:
    stmt, c = member_rows(f, principal)
    cat = _categories()
    in_category = sa.or_(
        *(
            sa.and_(
                cat.c.category == category.value,
                getattr(Member, CATEGORY_COLUMNS[category]).is_(True),
            )
            for category in _CATEGORIES
        )
    )
    keys = (
        District.code,
        Unit.code,
        Branch.code,
        Branch.id,
        Branch.name,
        Unit.id,
        Unit.name,
        District.id,
        District.name,
        cat.c.category,
    )
    order = sa.case({c.value: n for n, c in enumerate(_CATEGORIES)}, value=cat.c.category)
    participated = sa.func.sum(sa.case((c.participated, 1), else_=0))
    return (
        stmt.join(cat, in_category)
        .join(District, District.id == Unit.district_id)
        .add_columns(
            Branch.id.label("branch_id"),
            Branch.code.label("branch_code"),
            Branch.name.label("branch_name"),
            Unit.id.label("unit_id"),
            Unit.name.label("unit_name"),
            District.id.label("district_id"),
            District.name.label("district_name"),
            cat.c.category,
            sa.func.count().label("members"),
        )
        .group_by(*keys)
        .having(participated == 0)
        .order_by(District.code, Unit.code, Branch.code, order)
    )


def _shape(r: Any) -> DeadCorner:
    return DeadCorner.model_construct(
        branch_id=r.branch_id,
        branch_code=r.branch_code,
        branch_name=r.branch_name,
        unit_id=r.unit_id,
        unit_name=r.unit_name,
        district_id=r.district_id,
        district_name=r.district_name,
        category=MemberCategory(r.category),
        members=r.members,
    )


def dead_corners(session: Session, principal: Principal, f: ReportFilter) -> ListReport[DeadCorner]:
    """In the caller's scope, by district, unit and branch code, categories in their order."""
    check_filter(session, f)
    return ListReport(dead_corners_statement(principal, f), _shape)
