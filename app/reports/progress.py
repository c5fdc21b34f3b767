"""Progress of the units through the phases (工作进度): per batch and district, how many units
are in each state, and which units are overdue or extended, with their dates.

A unit is overdue when its current phase's window has ended before the day measured against
and it is still in the phase, its extension (if any) over too: the rule of a unit's own
progress answer (app/campaign/progress.py), counted here in SQL for every unit at once.
"""

from collections.abc import Iterator, Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import StreamingResponse

from app.auth.principal import Principal
from app.campaign.enums import UnitState
from app.campaign.models import Batch, BatchPhase, UnitProgress
from app.org.models import District, Unit
from app.org.scope import unit_condition
from app.reports.export import (
    ReportColumn,
    ReportSheet,
    col,
    sections_response,
)
from app.spreadsheets import SpreadsheetFormat

STATES = tuple(s.value for s in UnitState)


class ProgressCounts(BaseModel):
    """Units of one district in one batch (district fields null on the batch's total)."""

    district_id: int | None
    district_code: str | None
    district_name: str | None
    units: int
    not_started: int = 0
    study: int = 0
    evaluation: int = 0
    rectification: int = 0
    completed: int = 0
    overdue: int = Field(0, description="In a phase whose window (and extension) has ended.")
    extended: int = Field(0, description="Given an extension of their current phase.")


class UnitDeadline(BaseModel):
    unit_id: int
    unit_code: str
    unit_name: str
    district_id: int
    district_name: str
    state: UnitState
    phase_starts_on: date | None
    due_on: date | None = Field(description="The end of the current phase's window.")
    extended_until: date | None
    overdue: bool
    days_overdue: int = Field(description="Days past the due date or extension; 0 if not due.")


class BatchProgress(BaseModel):
    batch_id: int
    batch_number: int
    batch_name: str
    total: ProgressCounts
    districts: list[ProgressCounts] = Field(description="Districts in code order.")
    overdue_units: list[UnitDeadline]
    extended_units: list[UnitDeadline]


class ProgressReport(BaseModel):
    as_of: date = Field(description="The day the overdue rule is measured against.")
    batches: list[BatchProgress]


def _window():
    """The window of the unit's current phase (none for not_started and completed)."""
    return sa.and_(
        BatchPhase.batch_id == UnitProgress.batch_id, BatchPhase.phase == UnitProgress.state
    )


def _overdue(as_of: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        BatchPhase.ends_on < as_of,
        sa.or_(UnitProgress.extended_until.is_(None), UnitProgress.extended_until < as_of),
    )


def _enrolled(principal: Principal, batch_id: int | None, district_id: int | None) -> list:
    where = [unit_condition(principal)]
    if batch_id is not None:
        where.append(UnitProgress.batch_id == batch_id)
    if district_id is not None:
        where.append(Unit.district_id == district_id)
    return where


def _counts(
    session: Session, principal: Principal, as_of: date, batch_id: int | None, district: int | None
) -> Sequence[Any]:
    as_int = sa.Integer()
    stmt = (
        sa.select(
            UnitProgress.batch_id,
            District.id.label("district_id"),
            District.code.label("district_code"),
            District.name.label("district_name"),
            UnitProgress.state,
            sa.func.count().label("units"),
            sa.func.sum(sa.case((_overdue(as_of), 1), else_=0), type_=as_int).label("overdue"),
            sa.func.sum(
                sa.case((UnitProgress.extended_until.is_not(None), 1), else_=0), type_=as_int
            ).label("extended"),
        )
        .join(Unit, Unit.id == UnitProgress.unit_id)
        .join(District, District.id == Unit.district_id)
        .outerjoin(BatchPhase, _window())
        .where(*_enrolled(principal, batch_id, district))
        .group_by(UnitProgress.batch_id, District.id, District.code, District.name)
        .group_by(UnitProgress.state)
        .order_by(UnitProgress.batch_id, District.code)
    )
    return session.execute(stmt).all()


def _deadlines(
    session: Session, principal: Principal, as_of: date, batch_id: int | None, district: int | None
) -> Sequence[Any]:
    """Units overdue or extended: the only ones listed, so the list stays short."""
    stmt = (
        sa.select(
            UnitProgress.batch_id,
            Unit.id.label("unit_id"),
            Unit.code.label("unit_code"),
            Unit.name.label("unit_name"),
            District.id.label("district_id"),
            District.name.label("district_name"),
            UnitProgress.state,
            BatchPhase.starts_on,
            BatchPhase.ends_on,
            UnitProgress.extended_until,
            _overdue(as_of).label("overdue"),
        )
        .join(Unit, Unit.id == UnitProgress.unit_id)
        .join(District, District.id == Unit.district_id)
        .outerjoin(BatchPhase, _window())
        .where(
            *_enrolled(principal, batch_id, district),
            sa.or_(_overdue(as_of), UnitProgress.extended_until.is_not(None)),
        )
        .order_by(UnitProgress.batch_id, District.code, Unit.code)
    )
    return session.execute(stmt).all()


def _deadline(row: Any, as_of: date) -> UnitDeadline:
    overdue = bool(row.overdue)
    last_day = max(d for d in (row.ends_on, row.extended_until) if d is not None)
    return UnitDeadline(
        unit_id=row.unit_id,
        unit_code=row.unit_code,
        unit_name=row.unit_name,
        district_id=row.district_id,
        district_name=row.district_name,
        state=UnitState(row.state),
        phase_starts_on=row.starts_on,
        due_on=row.ends_on,
        extended_until=row.extended_until,
        overdue=overdue,
        days_overdue=(as_of - last_day).days if overdue else 0,
    )


def progress_report(
    session: Session,
    principal: Principal,
    as_of: date,
    batch_id: int | None = None,
    district_id: int | None = None,
) -> ProgressReport:
    """Every batch with units in the caller's scope; a batch total sums its districts' rows."""
    per_batch: dict[int, dict[int, ProgressCounts]] = {}
    for r in _counts(session, principal, as_of, batch_id, district_id):
        districts = per_batch.setdefault(r.batch_id, {})
        row = districts.get(r.district_id) or ProgressCounts(
            district_id=r.district_id,
            district_code=r.district_code,
            district_name=r.district_name,
            units=0,
        )
        districts[r.district_id] = row
        row.units += r.units
        setattr(row, r.state, getattr(row, r.state) + r.units)
        row.overdue += r.overdue or 0
        row.extended += r.extended or 0
    listed: dict[int, list[UnitDeadline]] = {}
    for r in _deadlines(session, principal, as_of, batch_id, district_id):
        listed.setdefault(r.batch_id, []).append(_deadline(r, as_of))
    batches = session.execute(
        sa.select(Batch.id, Batch.number, Batch.name)
        .where(Batch.id.in_(list(per_batch)))
        .order_by(Batch.campaign_id, Batch.number)
    ).all()
    return ProgressReport(
        as_of=as_of,
        batches=[
            BatchProgress(
                batch_id=b.id,
                batch_number=b.number,
                batch_name=b.name,
                total=_total(per_batch[b.id].values()),
                districts=list(per_batch[b.id].values()),
                overdue_units=[u for u in listed.get(b.id, []) if u.overdue],
                extended_units=[u for u in listed.get(b.id, []) if u.extended_until],
            )
            for b in batches
        ],
    )


_SUMMED = ("units", *STATES, "overdue", "extended")


def _total(rows: Iterator[ProgressCounts] | Any) -> ProgressCounts:
    total = ProgressCounts(district_id=None, district_code=None, district_name=None, units=0)
    for row in rows:
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


# ---------------------------------------------------------------------------- spreadsheets

TOTAL_LABEL = "合计"
COUNT_COLUMNS: tuple[ReportColumn, ...] = (
    col("批次", "batch", 10),
    col("县区编码", "district_code", 12),
    col("县区", "district_name", 16),
    col("单位数", "units", 8, "number"),
    *(col(s.label, s.value, 10, "number") for s in UnitState),
    col("逾期单位", "overdue", 10, "number"),
    col("延期单位", "extended", 10, "number"),
)
DEADLINE_COLUMNS: tuple[ReportColumn, ...] = (
    col("批次", "batch", 10),
    col("县区", "district_name", 16),
    col("单位编码", "unit_code", 14),
    col("单位名称", "unit_name", 36),
    col("所处阶段", "state", 10),
    col("阶段开始", "phase_starts_on", 12, "date"),
    col("阶段截止", "due_on", 12, "date"),
    col("延期至", "extended_until", 12, "date"),
    col("是否逾期", "overdue", 8),
    col("逾期天数", "days_overdue", 8, "number"),
)


def count_rows(report: ProgressReport) -> Iterator[SimpleNamespace]:
    """Each batch's districts, then its total."""
    for b in report.batches:
        for row in b.districts:
            yield SimpleNamespace(batch=b.batch_name, **row.model_dump())
        total = b.total.model_dump() | {"district_name": TOTAL_LABEL}
        yield SimpleNamespace(batch=b.batch_name, **total)


def deadline_rows(report: ProgressReport, which: str) -> Iterator[SimpleNamespace]:
    """``which``: overdue_units or extended_units."""
    for b in report.batches:
        for u in getattr(b, which):
            yield SimpleNamespace(batch=b.batch_name, **u.model_dump())


def export_progress(report: ProgressReport, fmt: SpreadsheetFormat) -> StreamingResponse:
    """CSV: the counts table. XLSX: the counts, then the overdue and the extended units."""
    sheets = [
        ReportSheet("进度汇总", COUNT_COLUMNS, count_rows(report)),
        ReportSheet("逾期单位", DEADLINE_COLUMNS, deadline_rows(report, "overdue_units")),
        ReportSheet("延期单位", DEADLINE_COLUMNS, deadline_rows(report, "extended_units")),
    ]
    return sections_response(fmt, sheets, "工作进度", "progress")
