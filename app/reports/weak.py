"""Weak branches (软弱涣散): flagged by DESIGN.md's rule, or marked by the department.

The rule, per branch of a measured unit: under 60% of its counted members attended
anything in the phase (``low_participation``, with the share), or it held no session in
the last 30 days while the phase runs (``no_recent_session``, with the days since its last
session, or since the phase's window began when it held none). A branch marked by hand is
listed while its mark is not ``done``, whatever its unit's phase; a done mark is still shown
on a branch the rule flags.

One statement: the branches in scope, joined to their member figures (grouped over the
running totals) and their last session in the phase, and to their mark.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.principal import Principal
from app.campaign.models import UnitProgress
from app.org.models import Branch, District, Unit
from app.reports.enums import WeakMarkStatus, WeakReason
from app.reports.listing import ListReport
from app.reports.measured import (
    ReportFilter,
    branch_sessions,
    check_filter,
    member_rows,
    tree_condition,
)
from app.reports.models import WeakBranchMark
from app.reports.schemas import WeakBranch, WeakMarkRead, share


def _member_figures(principal: Principal, f: ReportFilter) -> sa.Subquery:
    """Per branch of a measured unit: its measured batch and phase, whether the phase runs,
    its window's first day, the members counted and those who took part."""
    stmt, c = member_rows(f, principal, outer=True)
    ms = c.measured
    keys = (Branch.id.label("branch_id"), ms.c.batch_id, ms.c.phase, ms.c.running, ms.c.starts_on)
    return (
        stmt.add_columns(
            *keys,
            sa.func.count().filter(c.counted).label("members"),
            sa.func.count().filter(sa.and_(c.counted, c.participated)).label("participated"),
        )
        .group_by(*keys)
        .subquery("member_figures")
    )


def weak_branches_statement(principal: Principal, f: ReportFilter) -> sa.Select:
    figures = _member_figures(principal, f)
    last = branch_sessions(principal)
    mark = WeakBranchMark
    members, participated = figures.c.members, figures.c.participated
    # Under 60%, in integers: participated / members < 3 / 5.
    low = sa.and_(members > 0, participated * 5 < members * 3)
    idle = sa.and_(
        figures.c.running.is_(True),
        sa.or_(last.c.last_held_on.is_(None), last.c.last_held_on < f.inactive_before),
    )
    marked = sa.and_(mark.branch_id.is_not(None), mark.status != WeakMarkStatus.done.value)
    stmt = (
        sa.select(
            Branch.id.label("branch_id"),
            Branch.code.label("branch_code"),
            Branch.name.label("branch_name"),
            Unit.id.label("unit_id"),
            Unit.name.label("unit_name"),
            District.id.label("district_id"),
            District.name.label("district_name"),
            sa.func.coalesce(members, 0).label("members"),
            sa.func.coalesce(participated, 0).label("participated"),
            figures.c.starts_on,
            last.c.last_held_on.label("last_session_on"),
            sa.case((low, sa.true()), else_=sa.false()).label("low"),
            sa.case((idle, sa.true()), else_=sa.false()).label("idle"),
            sa.case((marked, sa.true()), else_=sa.false()).label("marked"),
            mark.reason.label("mark_reason"),
            mark.plan.label("mark_plan"),
            mark.due_on.label("mark_due_on"),
            mark.status.label("mark_status"),
            mark.updated_at.label("marked_at"),
            User.username.label("marked_by"),
        )
        .join(Unit, Unit.id == Branch.unit_id)
        .join(District, District.id == Unit.district_id)
        .outerjoin(figures, figures.c.branch_id == Branch.id)
        .outerjoin(
            last,
            sa.and_(
                last.c.branch_id == Branch.id,
                last.c.batch_id == figures.c.batch_id,
                last.c.phase == figures.c.phase,
            ),
        )
        .outerjoin(mark, mark.branch_id == Branch.id)
        .outerjoin(User, User.id == mark.marked_by)
        .where(tree_condition(principal), sa.or_(low, idle, marked))
    )
    if f.batch_id is not None:
        enrolled = sa.select(UnitProgress.unit_id).where(UnitProgress.batch_id == f.batch_id)
        stmt = stmt.where(Unit.id.in_(enrolled))
    # Lowest participation first; branches with nobody counted after the others.
    no_one = sa.case((sa.func.coalesce(members, 0) == 0, 1), else_=0)
    ratio = sa.cast(participated, sa.Float) / sa.func.nullif(members, 0)
    return stmt.order_by(no_one, ratio, Branch.code)


def weak_branches(
    session: Session, principal: Principal, f: ReportFilter
) -> ListReport[WeakBranch]:
    check_filter(session, f)
    day = f.day

    def shape(r: Any) -> WeakBranch:
        reasons = [
            reason
            for reason, on in (
                (WeakReason.low_participation, r.low),
                (WeakReason.no_recent_session, r.idle),
                (WeakReason.marked, r.marked),
            )
            if on
        ]
        since = r.last_session_on or r.starts_on
        mark = None
        if r.mark_status is not None:
            mark = WeakMarkRead(
                reason=r.mark_reason,
                plan=r.mark_plan,
                due_on=r.mark_due_on,
                status=WeakMarkStatus(r.mark_status),
                marked_at=r.marked_at,
                marked_by=r.marked_by,
            )
        return WeakBranch.model_construct(
            branch_id=r.branch_id,
            branch_code=r.branch_code,
            branch_name=r.branch_name,
            unit_id=r.unit_id,
            unit_name=r.unit_name,
            district_id=r.district_id,
            district_name=r.district_name,
            members=r.members,
            participated=r.participated,
            participation=share(r.participated, r.members),
            last_session_on=r.last_session_on,
            days_without_session=(day - since).days if r.idle else None,
            reasons=reasons,
            mark=mark,
        )

    return ListReport(weak_branches_statement(principal, f), shape)
