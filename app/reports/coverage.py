"""The coverage report: per district, unit or branch (or the whole city) how many members
were counted, took part, met the hours, with the same per category, and the sessions held.

One SQL statement: the member figures grouped over ``measured unit → unit → branch →
member`` with the members' running totals (member_study_total), beside the session figures
summed over the branches' running totals (branch_session_total); Python only turns those
grouped rows into answers and adds them up for the total row. Its cost is the members'
count, not the attendance rows' or the sessions'.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import bulk
from app.auth.principal import Principal
from app.db import widen_report_memory
from app.errors import InvalidInput, NotFound
from app.org.enums import MemberCategory
from app.org.models import CATEGORY_COLUMNS, Branch, District, Member, Unit
from app.org.repository import DistrictRepository, UnitRepository
from app.reports.enums import ReportLevel
from app.reports.measured import (
    ReportFilter,
    check_filter,
    joined_sessions,
    measured_units,
    member_rows,
    tree_condition,
)
from app.reports.schemas import CoverageReport, share
from app.study.enums import SessionFormat

CITY_NAME = "全市"
TOTAL_NAME = "合计"
_FORMATS = list(SessionFormat)
_CATEGORIES = list(MemberCategory)
# Which figure columns the statement answers, in order, after the key columns.
_CATEGORY_FIGURES = ("members", "participated", "met_hours")


def _level_keys(level: ReportLevel) -> list[sa.ColumnElement]:
    model = {ReportLevel.district: District, ReportLevel.unit: Unit, ReportLevel.branch: Branch}
    if level is ReportLevel.city:
        return []
    m = model[level]
    return [m.id.label("id"), m.code.label("code"), m.name.label("name")]


def _session_key(level: ReportLevel) -> sa.ColumnElement | None:
    return {
        ReportLevel.city: None,
        ReportLevel.district: Unit.district_id,
        ReportLevel.unit: Unit.id,
        ReportLevel.branch: Branch.id,
    }[level]


def parent_condition(
    session: Session, principal: Principal, level: ReportLevel, parent_id: int | None
) -> sa.ColumnElement[bool]:
    """``parent_id``: the district of level=unit rows, the unit of level=branch rows; one the
    caller does not see is one that does not exist (404)."""
    if parent_id is None:
        return sa.true()
    if level is ReportLevel.unit:
        if DistrictRepository(session, principal).get(parent_id) is None:
            raise NotFound(f"No district with id {parent_id}.")
        return Unit.district_id == parent_id
    if level is ReportLevel.branch:
        if UnitRepository(session, principal).get(parent_id) is None:
            raise NotFound(f"No unit with id {parent_id}.")
        return Branch.unit_id == parent_id
    raise InvalidInput.field(
        "parent_id", "only for level=unit (a district) or level=branch (a unit)", where="query"
    )


def _count(condition: sa.ColumnElement[bool] | None = None) -> sa.ColumnElement[int]:
    count = sa.func.count()
    return count if condition is None else count.filter(condition)


def coverage_statement(
    principal: Principal,
    level: ReportLevel,
    f: ReportFilter,
    parent: sa.ColumnElement[bool] = sa.true(),
) -> sa.Select:
    """Columns: id, code, name (not for the city), then the figures in the order of
    ``_COUNTS``: members, participated, met_hours; per category
    ``{category}_{members|participated|met_hours}``; sessions, leader_lectures, one count
    per session format ``fmt_{format}``; hours_tenths.

    Three grouped parts joined on the row's id: the rows (every district, unit or branch
    with a measured unit in scope, members or not), the counted members' figures, and the
    sessions' figures. The members are joined inner, so that each figure is a plain
    filtered count over the counted members."""
    key = _session_key(level)
    stmt, c = member_rows(f, principal)
    participated, met = c.participated, c.met
    figures = [
        _count().label("members"),
        _count(participated).label("participated"),
        _count(met).label("met_hours"),
        # In tenths, as stored: whole numbers, summed exactly whatever the database.
        sa.cast(sa.func.round(sa.func.sum(c.hours) * 10), sa.Integer).label("hours_tenths"),
    ]
    for category in _CATEGORIES:
        flag = getattr(Member, CATEGORY_COLUMNS[category]).is_(True)
        figures += [
            _count(flag).label(f"{category.value}_members"),
            _count(sa.and_(flag, participated)).label(f"{category.value}_participated"),
            _count(sa.and_(flag, met)).label(f"{category.value}_met_hours"),
        ]
    members = stmt.add_columns(*_keyed(key), *figures).where(parent)

    ms = measured_units(f, principal)
    tree = (
        sa.select()
        .select_from(ms)
        .join(Unit, Unit.id == ms.c.unit_id)
        .join(Branch, Branch.unit_id == Unit.id)
        .where(tree_condition(principal), parent)
    )
    tree, bs = joined_sessions(tree, principal, ms)
    counts = ("sessions", "leader_lectures", *(f"fmt_{fmt.value}" for fmt in _FORMATS))
    sessions = tree.add_columns(
        *_keyed(key), *(sa.cast(sa.func.sum(bs.c[name]), sa.Integer).label(name) for name in counts)
    )
    if key is None:
        # One row for the city: every aggregate over the whole scope.
        members, sessions = members.subquery("member_figures"), sessions.subquery("sessions")
        return sa.select(*_counts(members, sessions)).select_from(members.join(sessions, sa.true()))
    members = members.group_by(key).subquery("member_figures")
    sessions = sessions.group_by(key).subquery("session_figures")
    rows = _rows(principal, level, f, parent).subquery("report_rows")
    return (
        sa.select(rows.c.id, rows.c.code, rows.c.name, *_counts(members, sessions))
        .select_from(rows)
        .outerjoin(members, members.c.key == rows.c.id)
        .outerjoin(sessions, sessions.c.key == rows.c.id)
    )


def _counts(members: sa.Subquery, sessions: sa.Subquery) -> list[sa.ColumnElement]:
    """The figures in the order of ``_COUNTS``, 0 where a row has none."""
    return [_zero(members.c.get(name, sessions.c.get(name))) for name in _COUNTS]


def _keyed(key: sa.ColumnElement | None) -> list[sa.ColumnElement]:
    return [] if key is None else [key.label("key")]


def _zero(col: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.coalesce(col, 0).label(col.name)


def _rows(
    principal: Principal, level: ReportLevel, f: ReportFilter, parent: sa.ColumnElement[bool]
) -> sa.Select:
    """The report's rows: each district, unit or branch in scope with a measured unit."""
    ms = measured_units(f, principal)
    stmt = (
        sa.select(*_level_keys(level))
        .select_from(ms)
        .join(Unit, Unit.id == ms.c.unit_id)
        .join(Branch, Branch.unit_id == Unit.id)
        .where(tree_condition(principal), parent)
    )
    if level is ReportLevel.district:
        stmt = stmt.join(District, District.id == Unit.district_id)
    return stmt.distinct()


_COUNTS = (
    "members",
    "participated",
    "met_hours",
    *(f"{cat.value}_{fig}" for cat in _CATEGORIES for fig in _CATEGORY_FIGURES),
    "sessions",
    "leader_lectures",
    *(f"fmt_{fmt.value}" for fmt in _FORMATS),
    "hours_tenths",
)
_FORMAT_CODES = tuple(fmt.value for fmt in _FORMATS)
_MIGRANT, _OUTGOING, _RETIRED, _INFIRM = (cat.value for cat in _CATEGORIES)


def _row(id: int | None, code: str | None, name: str, n: Sequence[int]) -> dict[str, Any]:
    """A row as plain values, a CoverageRow's fields (codes as strings): thousands of rows
    are shaped per report, and plain values cost a fraction of models; the API serialises
    them as they are. ``n``: the counts in the order of ``_COUNTS`` (unrolled here: this
    runs once per row of the largest reports)."""
    members, met = n[0], n[2]
    used = [fmt for fmt, count in zip(_FORMAT_CODES, n[17:25], strict=True) if count]
    return {
        "id": id,
        "code": code,
        "name": name,
        "members": members,
        "participated": n[1],
        "met_hours": met,
        "coverage": share(met, members),
        "avg_hours": _average(n[25], members),
        "sessions": n[15],
        "formats_used": len(used),
        "leader_lectures": n[16],
        "formats": used,
        "categories": {
            _MIGRANT: _category(n[3], n[4], n[5]),
            _OUTGOING: _category(n[6], n[7], n[8]),
            _RETIRED: _category(n[9], n[10], n[11]),
            _INFIRM: _category(n[12], n[13], n[14]),
        },
    }


def _category(members: int, participated: int, met: int) -> dict[str, Any]:
    return {
        "members": members,
        "participated": participated,
        "met_hours": met,
        "coverage": share(met, members),
    }


def _average(tenths: int, members: int) -> float | None:
    """Hours per member to 2 decimals, rounded half to even (in integers, from the hours in
    tenths, which is what they are stored in)."""
    if not members:
        return None
    q, r = divmod(tenths * 10, members)
    if 2 * r > members or (2 * r == members and q % 2):
        q += 1
    return q / 100


def _sort_key(row: dict[str, Any]) -> tuple:
    # Lowest coverage first; rows with nobody to count after all others.
    coverage = row["coverage"]
    return (coverage is None, coverage or 0.0, row["code"] or "", row["id"] or 0)


def coverage_figures(
    session: Session,
    principal: Principal,
    level: ReportLevel,
    f: ReportFilter,
    parent_id: int | None = None,
) -> dict[str, Any]:
    """The coverage report as plain values, shaped as CoverageReport (what the JSON answer
    serialises directly)."""
    check_filter(session, f)
    parent = parent_condition(session, principal, level, parent_id)
    # Core, not the ORM's execute: its per-row bookkeeping would only slow the rows down.
    conn = bulk.connection(session)
    widen_report_memory(conn)
    result = conn.execute(coverage_statement(principal, level, f, parent))
    rows: list[dict[str, Any]] = []
    figures: list[Sequence[int]] = []
    if level is ReportLevel.city:
        for n in result:
            rows.append(_row(None, None, CITY_NAME, n))
            figures.append(n)
    else:
        for r in result:
            n = r[3:]
            rows.append(_row(r[0], r[1], r[2], n))
            figures.append(n)
    sums = [sum(column) for column in zip(*figures, strict=True)] if figures else [0] * len(_COUNTS)
    rows.sort(key=_sort_key)
    return {
        "level": level,
        "batch_id": f.batch_id,
        "phase": f.phase,
        "as_of": f.day,
        "rows": rows,
        "total": _row(None, None, TOTAL_NAME, sums),
    }


def coverage_report(
    session: Session,
    principal: Principal,
    level: ReportLevel,
    f: ReportFilter,
    parent_id: int | None = None,
) -> CoverageReport:
    """The coverage report as models (for the bulletin and other callers in Python)."""
    return CoverageReport.model_validate(coverage_figures(session, principal, level, f, parent_id))


__all__: Sequence[str] = ("coverage_figures", "coverage_report", "coverage_statement")
