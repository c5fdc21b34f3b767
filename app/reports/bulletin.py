"""The situation bulletin (情况通报): a dated summary across districts, assembled from the
other reports' own queries so that its figures are theirs.

Sections: districts ranked by coverage; units whose study used a single session format
(学习形式单一); units where no leading cadre gave a party lecture (领导带头讲党课); overdue
units; weak branches; dead corners by category. ``as_of`` is the day the 30-day rules
and the overdue rule are measured against; the figures themselves are the running totals
as they are now.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import StreamingResponse

from app.auth.principal import Principal
from app.campaign.models import Batch
from app.org.enums import MemberCategory
from app.org.models import District, Unit
from app.org.scope import unit_condition
from app.reports.columns import COVERAGE_COLUMNS, DEAD_CORNER_COLUMNS, WEAK_BRANCH_COLUMNS
from app.reports.corners import dead_corners
from app.reports.coverage import coverage_report
from app.reports.enums import ReportLevel
from app.reports.export import ReportColumn, ReportSheet, col, workbook_response
from app.reports.listing import report_rows
from app.reports.measured import ReportFilter
from app.reports.progress import DEADLINE_COLUMNS, UnitDeadline, progress_report
from app.reports.schemas import CoverageRow, DeadCorner, WeakBranch
from app.reports.weak import weak_branches
from app.study.enums import SessionFormat


class RankedDistrict(CoverageRow):
    rank: int = Field(description="1 for the highest coverage; equal coverage, equal rank.")


class BulletinUnit(BaseModel):
    """A unit named by the bulletin, with its study figures in its current phase."""

    unit_id: int
    unit_code: str
    unit_name: str
    district_id: int
    district_name: str
    members: int
    coverage: float | None
    sessions: int
    formats_used: int
    formats: list[SessionFormat]
    leader_lectures: int


class OverdueUnit(UnitDeadline):
    batch_id: int
    batch_name: str


class CornersOfCategory(BaseModel):
    category: MemberCategory
    branches: int = Field(description="Branches where the category was not reached.")
    members: int = Field(description="Members of the category in those branches.")
    corners: list[DeadCorner]


class Bulletin(BaseModel):
    as_of: date = Field(description="The day the 30-day and overdue rules are measured at.")
    batch_id: int | None
    batch_name: str | None
    city: CoverageRow = Field(description="The whole of the caller's scope.")
    districts: list[RankedDistrict] = Field(description="Highest coverage first.")
    one_form_units: list[BulletinUnit] = Field(description="Study in one session format only.")
    no_lecture_units: list[BulletinUnit] = Field(
        description="No session given by a leading cadre (no session at all included)."
    )
    overdue_units: list[OverdueUnit]
    weak_branches: list[WeakBranch]
    dead_corners: list[CornersOfCategory] = Field(description="Every category, in order.")


def _ranked(rows: list[CoverageRow]) -> list[RankedDistrict]:
    """Highest coverage first, districts with nobody counted last; ties share a rank."""
    ordered = sorted(rows, key=lambda r: (r.coverage is None, -(r.coverage or 0), r.code or ""))
    out: list[RankedDistrict] = []
    for n, row in enumerate(ordered, start=1):
        tied = out and out[-1].coverage == row.coverage
        out.append(RankedDistrict(**row.model_dump(), rank=out[-1].rank if tied else n))
    return out


def _places(session: Session, principal: Principal) -> dict[int, Any]:
    """Each unit in scope with its district: one scoped read rather than an IN list of
    thousands of ids (drivers cap the parameters of one statement)."""
    stmt = (
        sa.select(Unit.id, District.id.label("district_id"), District.code, District.name)
        .join(District, District.id == Unit.district_id)
        .where(unit_condition(principal))
    )
    return {p.id: p for p in session.execute(stmt)}


def _units(rows: list[CoverageRow], places: dict[int, Any]) -> list[BulletinUnit]:
    """The unit rows as bulletin entries, with their district, in district and unit order."""
    units = [
        BulletinUnit(
            unit_id=r.id,
            unit_code=r.code,
            unit_name=r.name,
            district_id=places[r.id].district_id,
            district_name=places[r.id].name,
            members=r.members,
            coverage=r.coverage,
            sessions=r.sessions,
            formats_used=r.formats_used,
            formats=r.formats,
            leader_lectures=r.leader_lectures,
        )
        for r in rows
    ]
    units.sort(key=lambda u: (places[u.unit_id].code, u.unit_code))
    return units


def _corners(corners: list[DeadCorner]) -> list[CornersOfCategory]:
    out = []
    for category in MemberCategory:
        mine = [c for c in corners if c.category is category]
        out.append(
            CornersOfCategory(
                category=category,
                branches=len(mine),
                members=sum(c.members for c in mine),
                corners=mine,
            )
        )
    return out


def bulletin(
    session: Session, principal: Principal, as_of: date, batch_id: int | None = None
) -> Bulletin:
    f = ReportFilter(batch_id=batch_id, as_of=as_of)
    districts = coverage_report(session, principal, ReportLevel.district, f)
    units = coverage_report(session, principal, ReportLevel.unit, f).rows
    places = _places(session, principal)
    progress = progress_report(session, principal, as_of, batch_id)
    overdue = [
        OverdueUnit(**u.model_dump(), batch_id=b.batch_id, batch_name=b.batch_name)
        for b in progress.batches
        for u in b.overdue_units
    ]
    return Bulletin(
        as_of=as_of,
        batch_id=batch_id,
        batch_name=session.get(Batch, batch_id).name if batch_id is not None else None,
        city=districts.total,
        districts=_ranked(districts.rows),
        one_form_units=_units([u for u in units if u.formats_used == 1], places),
        no_lecture_units=_units([u for u in units if u.leader_lectures == 0], places),
        overdue_units=overdue,
        weak_branches=list(report_rows(session, weak_branches(session, principal, f))),
        dead_corners=_corners(list(report_rows(session, dead_corners(session, principal, f)))),
    )


# ---------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Section:
    """One section of the bulletin as a table: the XLSX sheet and the page's table read the
    same columns (the page a narrower choice of them, to fit A4)."""

    title: str  # the page's heading, without its number
    sheet: str  # the XLSX sheet's name
    columns: Sequence[ReportColumn]
    page_columns: Sequence[ReportColumn]
    rows: list[Any]


# The total row has no rank.
_RANK_COLUMNS = (
    ReportColumn("名次", lambda r: getattr(r, "rank", None), 6, "number"),
    *COVERAGE_COLUMNS,
)
_UNIT_COLUMNS = (
    col("县区", "district_name", 14),
    col("单位编码", "unit_code", 14),
    col("单位名称", "unit_name", 30),
    col("党员数", "members", 8, "number"),
    col("覆盖率", "coverage", 10, "percent"),
    col("学习次数", "sessions", 10, "number"),
    col("学习形式数", "formats_used", 10, "number"),
    col("学习形式", "formats", 24),
)
_OVERDUE_COLUMNS = (col("批次", "batch_name", 10), *DEADLINE_COLUMNS[1:])


def _pick(columns: Sequence[ReportColumn], *headers: str) -> tuple[ReportColumn, ...]:
    by_header = {c.header: c for c in columns}
    return tuple(by_header[h] for h in headers)


def sections(b: Bulletin) -> list[Section]:
    corners = [c for group in b.dead_corners for c in group.corners]
    return [
        Section(
            "各县区学习覆盖率排名",
            "县区排名",
            _RANK_COLUMNS,
            _pick(_RANK_COLUMNS, "名次", "名称", "党员数", "参学人数", "学时达标人数", "覆盖率")
            + _pick(_RANK_COLUMNS, "人均学时", "学习次数", "领导干部讲党课次数"),
            [*b.districts, b.city],
        ),
        Section(
            "学习形式单一的单位",
            "形式单一单位",
            _UNIT_COLUMNS,
            _pick(_UNIT_COLUMNS, "县区", "单位名称", "党员数", "覆盖率", "学习次数", "学习形式"),
            b.one_form_units,
        ),
        Section(
            "未开展领导干部讲党课的单位",
            "未讲党课单位",
            _UNIT_COLUMNS,
            _pick(_UNIT_COLUMNS, "县区", "单位名称", "党员数", "覆盖率", "学习次数", "学习形式"),
            b.no_lecture_units,
        ),
        Section(
            "逾期未完成阶段任务的单位",
            "逾期单位",
            _OVERDUE_COLUMNS,
            _pick(_OVERDUE_COLUMNS, "县区", "单位名称", "所处阶段", "阶段截止", "延期至")
            + _pick(_OVERDUE_COLUMNS, "逾期天数"),
            b.overdue_units,
        ),
        Section(
            "软弱涣散基层党组织",
            "软弱涣散支部",
            WEAK_BRANCH_COLUMNS,
            _pick(WEAK_BRANCH_COLUMNS, "县区", "单位", "支部", "党员数", "参学率")
            + _pick(WEAK_BRANCH_COLUMNS, "未组织学习天数", "列入原因", "整建状态"),
            b.weak_branches,
        ),
        Section(
            "学习死角（按党员类别）",
            "学习死角",
            DEAD_CORNER_COLUMNS,
            _pick(DEAD_CORNER_COLUMNS, "党员类别", "县区", "单位", "支部", "人数"),
            corners,
        ),
    ]


def export_bulletin(b: Bulletin) -> StreamingResponse:
    """One sheet per section."""
    sheets = [ReportSheet(s.sheet, s.columns, s.rows) for s in sections(b)]
    return workbook_response(sheets, "情况通报", "bulletin")
