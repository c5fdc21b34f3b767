"""What a report measures: which units, in which phase, against which requirement, and what
part of the tree the caller sees. Every report starts from here, so they all agree.

Phase semantics:

- ``phase`` absent: every enrolled unit is measured in its current phase (state ``study``,
  ``evaluation`` or ``rectification``). Units ``not_started`` are left out (nothing to
  measure yet); ``completed`` ones are measured in their last phase, rectification, as
  their look-back is (app/campaign/progress.py ``phase_of``), a phase that no longer runs
  for them. So the city's row counts every member of every unit the campaign has reached.
- ``phase=P``: the units that have reached P (state P or later, ``completed`` included),
  each measured in P.

A unit's required hours are its batch's requirement for the measured phase (BatchPhase).
Its members are the active members of its branches as they are now, minus those exempted
from (batch, phase): the look-back's denominator, so that a unit's row agrees with its
look-back. The 30-day rules (a member's ``inactive_30d``, a branch with no recent session)
apply only while the phase runs for the unit: its state is that phase and the window began
at least 30 days before the report's day, as in app/study/member_view.py.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import GenericFunction

from app.auth.principal import Principal, Role
from app.campaign.enums import Phase, UnitState
from app.campaign.models import Batch, BatchPhase, MemberExemption, UnitProgress
from app.clock import today
from app.errors import NotFound
from app.org.enums import MemberStatus
from app.org.models import Branch, Member, Unit
from app.org.repository import BranchRepository, DistrictRepository, UnitRepository
from app.study.enums import SessionFormat
from app.study.member_view import INACTIVE_AFTER
from app.study.models import BranchSessionTotal, MemberStudyTotal

_STATES = list(UnitState)


@dataclass(frozen=True)
class ReportFilter:
    batch_id: int | None = None
    phase: Phase | None = None
    # The day the 30-day rules count from; None: today in Asia/Shanghai.
    as_of: date | None = None

    @property
    def day(self) -> date:
        return self.as_of or today()

    @property
    def inactive_before(self) -> date:
        """Nothing attended since before this day: inactive for 30 days."""
        return self.day - INACTIVE_AFTER


def check_filter(session: Session, f: ReportFilter) -> None:
    check_batch(session, f.batch_id)


def check_batch(session: Session, batch_id: int | None) -> None:
    if batch_id is not None and session.get(Batch, batch_id) is None:
        raise NotFound(f"No batch with id {batch_id}.")


def check_places(
    session: Session,
    principal: Principal,
    *,
    district_id: int | None = None,
    unit_id: int | None = None,
    branch_id: int | None = None,
) -> None:
    """A report filtered by a district, unit or branch the caller does not see answers 404,
    as if it did not exist: an empty report would read as one with nothing to show."""
    for value, repository, entity in (
        (district_id, DistrictRepository, "district"),
        (unit_id, UnitRepository, "unit"),
        (branch_id, BranchRepository, "branch"),
    ):
        if value is not None and repository(session, principal).get(value) is None:
            raise NotFound(f"No {entity} with id {value}.")


def _states_measured(phase: Phase) -> list[str]:
    start = _STATES.index(UnitState(phase.value))
    return [s.value for s in _STATES[start:]]


def measured_units(
    f: ReportFilter, p: Principal, among: sa.ColumnElement[bool] | None = None
) -> sa.Subquery:
    """One row per measured unit in the caller's scope (and ``among``, a condition on
    ``UnitProgress.unit_id``): ``unit_id, batch_id, phase, min_hours, starts_on, running``
    (the 30-day rules apply).

    The scope is applied here too, not only to the tree it is joined to: PostgreSQL
    computes this subquery whole before the join, so a secretary's report or one branch's
    gaps would otherwise measure every unit of the city first (5 ms of a 6 ms statement at
    scale 10).

    Without a phase it is a UNION ALL (units in a phase; completed units in rectification)
    rather than one join on a CASE: PostgreSQL estimates a join on an expression at a
    fraction of its rows, and then plans the whole report as nested loops."""
    up, bp = UnitProgress, BatchPhase

    def measured(phase: sa.ColumnElement[str], states: list[str], running) -> sa.Select:
        stmt = (
            sa.select(
                up.unit_id,
                up.batch_id,
                bp.phase,
                bp.min_hours,
                bp.starts_on,
                sa.case((running, sa.true()), else_=sa.false()).label("running"),
            )
            .join(bp, sa.and_(bp.batch_id == up.batch_id, bp.phase == phase))
            .where(up.state.in_(states) if len(states) > 1 else up.state == states[0])
        )
        for condition in (
            None if f.batch_id is None else up.batch_id == f.batch_id,
            unit_scope(p),
            among,
        ):
            if condition is not None:
                stmt = stmt.where(condition)
        return stmt

    started = bp.starts_on <= f.inactive_before
    if f.phase is None:
        return sa.union_all(
            measured(up.state, Phase.codes(), started),
            measured(
                sa.literal(Phase.rectification.value, sa.String),
                [UnitState.completed.value],
                sa.false(),
            ),
        ).subquery("measured")
    phase = sa.literal(f.phase.value, sa.String)
    running = sa.and_(up.state == f.phase.value, started)
    return measured(phase, _states_measured(f.phase), running).subquery("measured")


def unit_scope(p: Principal) -> sa.ColumnElement[bool] | None:
    """The caller's scope as a condition on ``UnitProgress.unit_id``; None: every unit."""
    unit_id = UnitProgress.unit_id
    match p.role:
        case Role.city_admin:
            return None
        case Role.district_admin:
            # An alias: the unit table of the query this ends up in stays out of it.
            unit = sa.orm.aliased(Unit)
            return unit_id.in_(sa.select(unit.id).where(unit.district_id == p.district_id))
        case Role.unit_admin | Role.branch_secretary:
            return unit_id == p.unit_id
        case Role.inspector:
            return unit_id.in_(p.unit_ids)


def tree_condition(p: Principal, unit=Unit, branch=Branch) -> sa.ColumnElement[bool]:
    """The caller's scope over a query that joins ``unit`` and ``branch`` (plain comparisons,
    so nothing is correlated into a subquery as app/org/scope.py's forms would be)."""
    match p.role:
        case Role.city_admin:
            return sa.true()
        case Role.district_admin:
            return unit.district_id == p.district_id
        case Role.unit_admin:
            return unit.id == p.unit_id
        case Role.branch_secretary:
            return branch.id == p.branch_id
        case Role.inspector:
            return unit.id.in_(p.unit_ids)


def branch_sessions(p: Principal) -> sa.Subquery:
    """The sessions' figures per branch, batch and phase: ``branch_id, batch_id, phase,
    sessions, leader_lectures, fmt_{format}`` (a count per format) and ``last_held_on``,
    read from the branches' running totals (branch_session_total): one row per branch and
    phase, however many sessions were held."""
    t = BranchSessionTotal.__table__
    stmt = sa.select(
        t.c.branch_id,
        t.c.batch_id,
        t.c.phase,
        t.c.sessions,
        t.c.leader_lectures,
        *(t.c[f"{fmt.value}_sessions"].label(f"fmt_{fmt.value}") for fmt in SessionFormat),
        t.c.last_held_on,
    )
    if p.role is not Role.city_admin:
        unit, branch = sa.orm.aliased(Unit), sa.orm.aliased(Branch)
        mine = (
            sa.select(branch.id)
            .join(unit, unit.id == branch.unit_id)
            .where(tree_condition(p, unit, branch))
        )
        stmt = stmt.where(t.c.branch_id.in_(mine))
    return stmt.subquery("branch_sessions")


def joined_sessions(
    stmt: sa.Select, p: Principal, ms: sa.Subquery
) -> tuple[sa.Select, sa.Subquery]:
    """``stmt`` (over the measured units, unit and branch) joined to its branches' session
    figures in the measured phase."""
    bs = branch_sessions(p)
    on = sa.and_(
        bs.c.branch_id == Branch.id, bs.c.batch_id == ms.c.batch_id, bs.c.phase == ms.c.phase
    )
    return stmt.join(bs, on), bs


@dataclass(frozen=True)
class MemberColumns:
    """The joined member rows every member-counting report groups: the measured unit, the
    member's running total (if any) and the look-back's exemption."""

    measured: sa.Subquery
    total: type[MemberStudyTotal]
    exemption: type[MemberExemption]

    @property
    def counted(self) -> sa.ColumnElement[bool]:
        """A member the report counts: there is one, and they are not exempted."""
        return sa.and_(Member.id.is_not(None), self.exemption.member_id.is_(None))

    @property
    def hours(self) -> sa.ColumnElement:
        return sa.func.coalesce(self.total.hours, 0)

    @property
    def participated(self) -> sa.ColumnElement[bool]:
        """Attended anything (present or late) in the measured phase."""
        return sa.func.coalesce(self.total.sessions, 0) > 0

    @property
    def met(self) -> sa.ColumnElement[bool]:
        return self.hours >= self.measured.c.min_hours


def member_rows(
    f: ReportFilter,
    p: Principal,
    *,
    outer: bool = False,
    among: sa.ColumnElement[bool] | None = None,
) -> tuple[sa.Select, MemberColumns]:
    """``measured unit → unit → branch → member`` with totals and exemptions joined, scoped.

    Without ``outer``, only counted members' rows. With it, every branch of a measured unit
    keeps its rows even with no member counted (members null, or exempted): the caller
    counts with ``MemberColumns.counted``, so that empty branches still get a report row.
    ``among``: only these measured units (see ``measured_units``). Returns a select without
    columns (the caller gives them) and the member columns.
    """
    ms = measured_units(f, p, among)
    t = sa.orm.aliased(MemberStudyTotal, name="t")
    e = sa.orm.aliased(MemberExemption, name="e")
    active = _unindexed(Member.status) == MemberStatus.active.value
    member_on = sa.and_(Member.branch_id == Branch.id, active)
    stmt = (
        sa.select()
        .select_from(ms)
        .join(Unit, Unit.id == ms.c.unit_id)
        .join(Branch, Branch.unit_id == Unit.id)
        .join(Member, member_on, isouter=outer)
        .outerjoin(
            t,
            sa.and_(t.member_id == Member.id, t.batch_id == ms.c.batch_id, t.phase == ms.c.phase),
        )
        .outerjoin(
            e,
            sa.and_(e.member_id == Member.id, e.batch_id == ms.c.batch_id, e.phase == ms.c.phase),
        )
        .where(tree_condition(p))
    )
    if not outer:
        stmt = stmt.where(e.member_id.is_(None))
    return stmt, MemberColumns(ms, t, e)


class _unindexed(GenericFunction):
    """A column SQLite must not look up by its index: without statistics (SQLite keeps
    none unless ANALYZE runs) it took ``member.status = 'active'`` for the better index and
    read every member for one branch's gaps. ``+column`` is SQLite's no-op that says so;
    other databases get the column as it is."""

    type = sa.String()
    inherit_cache = True


@compiles(_unindexed)
def _column(element: _unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_unindexed, "sqlite")
def _sqlite_column(element: _unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)
