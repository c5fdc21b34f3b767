"""The evaluation report: per city, district, unit or branch, the rating distribution and
how many members are not yet evaluated; and the list of those members.

Units are counted once they have reached the evaluation phase (state evaluation,
rectification or completed): before that nobody is due. A unit's members are the active
members of its branches as they are now, minus those exempted from its batch's evaluation
phase (counted apart as ``exempted``), the same members the evaluation gate asks for. One
GROUP BY over ``unit → branch → member`` with the evaluations joined: its cost is the
members' count.
"""

from collections.abc import Iterator

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import StreamingResponse

from app.auth.principal import Principal
from app.campaign.enums import Phase, UnitState
from app.campaign.models import MemberExemption, UnitProgress
from app.evaluation.enums import Rating
from app.evaluation.models import Evaluation
from app.evaluation.repository import ACTIVE
from app.evaluation.schemas import RatingCounts
from app.org.models import Branch, District, Member, Unit
from app.reports.coverage import parent_condition
from app.reports.enums import ReportLevel
from app.reports.export import ReportFormat, ReportSheet, col, report_response, streamed_rows
from app.reports.listing import ListReport
from app.reports.measured import check_batch, check_places, tree_condition
from app.spreadsheets import (
    SheetColumn,
    SpreadsheetFormat,
    csv_response,
    xlsx_response,
)

DUE_STATES = (UnitState.evaluation.value, UnitState.rectification.value, UnitState.completed.value)
CITY_NAME = "全市"
TOTAL_NAME = "合计"
_FIGURES = ("members", "exempted", "evaluated", *Rating.codes())


class EvaluationRow(RatingCounts):
    id: int | None = Field(description="The row's district, unit or branch; null for the city.")
    code: str | None
    name: str
    members: int = Field(description="Active members due (exempted ones left out).")
    exempted: int = Field(description="Active members exempted from the evaluation phase.")
    evaluated: int
    not_evaluated: int
    evaluated_share: float | None = Field(description="evaluated / members; null with none.")


class EvaluationReport(BaseModel):
    level: ReportLevel
    batch_id: int | None
    rows: list[EvaluationRow] = Field(description="Least evaluated first.")
    total: EvaluationRow


class NotEvaluatedMember(BaseModel):
    member_id: int
    member_name: str
    branch_id: int
    branch_name: str
    unit_id: int
    unit_name: str
    unit_state: UnitState


def _keys(level: ReportLevel) -> list[sa.ColumnElement]:
    model = {ReportLevel.district: District, ReportLevel.unit: Unit, ReportLevel.branch: Branch}
    if level is ReportLevel.city:
        return []
    m = model[level]
    return [m.id.label("id"), m.code.label("code"), m.name.label("name")]


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def report_statement(
    principal: Principal,
    level: ReportLevel,
    batch_id: int | None,
    parent: sa.ColumnElement[bool] = sa.true(),
) -> sa.Select:
    """Columns: id, code, name (not for the city); members, exempted, evaluated and one
    count per rating. Every branch of a due unit has a row, members or not."""
    up, e, x = UnitProgress, Evaluation, MemberExemption
    member_on = sa.and_(Member.branch_id == Branch.id, ACTIVE)
    counted = sa.and_(Member.id.is_not(None), x.member_id.is_(None))
    keys = _keys(level)
    stmt = (
        sa.select(
            *keys,
            _count(counted).label("members"),
            _count(x.member_id.is_not(None)).label("exempted"),
            _count(sa.and_(counted, e.member_id.is_not(None))).label("evaluated"),
            *(_count(sa.and_(counted, e.rating == r)).label(r) for r in Rating.codes()),
        )
        .select_from(up)
        .join(Unit, Unit.id == up.unit_id)
        .join(Branch, Branch.unit_id == Unit.id)
        .outerjoin(Member, member_on)
        .outerjoin(e, sa.and_(e.member_id == Member.id, e.batch_id == up.batch_id))
        .outerjoin(
            x,
            sa.and_(
                x.member_id == Member.id,
                x.batch_id == up.batch_id,
                x.phase == Phase.evaluation.value,
            ),
        )
        .where(up.state.in_(DUE_STATES), tree_condition(principal), parent)
    )
    if level is ReportLevel.district:
        stmt = stmt.join(District, District.id == Unit.district_id)
    if batch_id is not None:
        stmt = stmt.where(up.batch_id == batch_id)
    return stmt.group_by(*keys) if keys else stmt


def _row(id: int | None, code: str | None, name: str, figures: dict[str, int]) -> EvaluationRow:
    members, evaluated = figures["members"], figures["evaluated"]
    return EvaluationRow(
        id=id,
        code=code,
        name=name,
        **figures,
        not_evaluated=members - evaluated,
        evaluated_share=round(evaluated / members, 4) if members else None,
    )


def _sort_key(row: EvaluationRow) -> tuple:
    # Least evaluated first; rows with nobody due after all others.
    share = row.evaluated_share
    return (share is None, share or 0.0, row.code or "", row.id or 0)


def evaluation_report(
    session: Session,
    principal: Principal,
    level: ReportLevel,
    batch_id: int | None = None,
    parent_id: int | None = None,
) -> EvaluationReport:
    check_batch(session, batch_id)
    parent = parent_condition(session, principal, level, parent_id)
    result = session.execute(report_statement(principal, level, batch_id, parent)).mappings()
    rows: list[EvaluationRow] = []
    sums = dict.fromkeys(_FIGURES, 0)
    for r in result:
        figures = {name: int(r[name] or 0) for name in _FIGURES}
        if level is ReportLevel.city:
            rows.append(_row(None, None, CITY_NAME, figures))
        else:
            rows.append(_row(r["id"], r["code"], r["name"], figures))
        for name in _FIGURES:
            sums[name] += figures[name]
    rows.sort(key=_sort_key)
    return EvaluationReport(
        level=level, batch_id=batch_id, rows=rows, total=_row(None, None, TOTAL_NAME, sums)
    )


COLUMNS = (
    SheetColumn("编码", 14),
    SheetColumn("名称", 30),
    SheetColumn("应评党员", 10, "number"),
    SheetColumn("免评", 8, "number"),
    SheetColumn("已评议", 10, "number"),
    SheetColumn("未评议", 10, "number"),
    SheetColumn("评议率", 10, "number"),
    *(SheetColumn(r.label, 10, "number") for r in Rating),
)


def _sheet_rows(report: EvaluationReport) -> Iterator[list]:
    for row in [*report.rows, report.total]:
        yield [
            row.code,
            row.name,
            row.members,
            row.exempted,
            row.evaluated,
            row.not_evaluated,
            row.evaluated_share,
            *(getattr(row, r) for r in Rating.codes()),
        ]


def export_report(report: EvaluationReport, fmt: ReportFormat) -> StreamingResponse:
    fmt = SpreadsheetFormat(fmt.value)
    filename, ascii_name = f"民主评议情况（{report.level.label}）", f"evaluations-{report.level}"
    rows = list(_sheet_rows(report))
    if fmt is SpreadsheetFormat.csv:
        return csv_response(COLUMNS, rows, f"{filename}.csv", f"{ascii_name}.csv")
    return xlsx_response(
        COLUMNS, rows, f"{filename}.xlsx", f"{ascii_name}.xlsx", sheet_name="民主评议"
    )


def _not_evaluated_filter(
    session: Session,
    principal: Principal,
    district_id: int | None,
    unit_id: int | None,
    branch_id: int | None,
) -> sa.ColumnElement[bool]:
    """Filters by a part of the tree; one the caller does not see does not exist (404)."""
    check_places(session, principal, district_id=district_id, unit_id=unit_id, branch_id=branch_id)
    places = ((district_id, Unit.district_id), (unit_id, Unit.id), (branch_id, Branch.id))
    conditions = [column == given for given, column in places if given is not None]
    return sa.and_(sa.true(), *conditions)


def not_evaluated_report(
    session: Session,
    principal: Principal,
    *,
    batch_id: int | None = None,
    district_id: int | None = None,
    unit_id: int | None = None,
    branch_id: int | None = None,
) -> ListReport[NotEvaluatedMember]:
    """Members due and not yet evaluated, by unit, branch and member."""
    check_batch(session, batch_id)
    where = _not_evaluated_filter(session, principal, district_id, unit_id, branch_id)
    up, e, x = UnitProgress, Evaluation, MemberExemption
    evaluated = sa.exists().where(e.member_id == Member.id, e.batch_id == up.batch_id)
    exempted = sa.exists().where(
        x.member_id == Member.id, x.batch_id == up.batch_id, x.phase == Phase.evaluation.value
    )
    stmt = (
        sa.select(
            Member.id.label("member_id"),
            Member.name.label("member_name"),
            Branch.id.label("branch_id"),
            Branch.name.label("branch_name"),
            Unit.id.label("unit_id"),
            Unit.name.label("unit_name"),
            up.state.label("unit_state"),
        )
        .join(Branch, Branch.id == Member.branch_id)
        .join(Unit, Unit.id == Branch.unit_id)
        .join(up, up.unit_id == Unit.id)
        .where(
            ACTIVE,
            up.state.in_(DUE_STATES),
            ~evaluated,
            ~exempted,
            tree_condition(principal),
            where,
        )
        .order_by(Unit.id, Branch.id, Member.id)
    )
    if batch_id is not None:
        stmt = stmt.where(up.batch_id == batch_id)
    return ListReport(stmt, lambda r: NotEvaluatedMember.model_validate(r._mapping))


NOT_EVALUATED_COLUMNS = (
    col("单位", "unit_name", 30),
    col("所处阶段", "unit_state", 12),
    col("支部", "branch_name", 28),
    col("党员", "member_name", 12),
)


def export_not_evaluated(
    session: Session, fmt: ReportFormat, report: ListReport[NotEvaluatedMember]
) -> StreamingResponse:
    sheet = ReportSheet("未评议党员", NOT_EVALUATED_COLUMNS, streamed_rows(session, report))
    return report_response(fmt, sheet, "未评议党员", "members-not-evaluated")
