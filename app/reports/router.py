"""/reports: coverage, gaps, dead corners and weak branches, as JSON or spreadsheets; and the
department's weak-branch marks. Every report is scoped to the caller and takes the batch
and the phase (see app/reports/measured.py for what the phase means)."""

from typing import Annotated

from fastapi import Query, Response, status
from pydantic_core import to_json

from app.auth.dependencies import PrincipalDep
from app.campaign.enums import Phase, Remedy
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.org.enums import MemberCategory
from app.pagination import Page, PageQuery
from app.reports import marks
from app.reports.columns import (
    COVERAGE_COLUMNS,
    DEAD_CORNER_COLUMNS,
    GAP_COLUMNS,
    WEAK_BRANCH_COLUMNS,
)
from app.reports.corners import dead_corners
from app.reports.coverage import coverage_figures
from app.reports.enums import ReportLevel
from app.reports.export import (
    EXPORTS,
    FormatQuery,
    ReportFormat,
    ReportSheet,
    report_response,
    streamed_rows,
)
from app.reports.gaps import GapFilter, gaps
from app.reports.listing import ListReport, report_page
from app.reports.measured import ReportFilter
from app.reports.schemas import (
    CoverageReport,
    DeadCorner,
    GapRow,
    WeakBranch,
    WeakMarkAnswer,
    WeakMarkWrite,
)
from app.reports.weak import weak_branches
from app.routing import APIRouter
from app.schemas import MAX_ID, PathId
from app.spreadsheets import spreadsheet_content

router = APIRouter(responses=problem_responses(401, 422))

Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]
BatchId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only units of this batch.")]
PhaseQuery = Annotated[
    Phase | None,
    Query(
        description="Measure this phase, in the units that have reached it. Left out: each "
        "unit in its current phase (completed units in rectification; units not started are "
        "left out)."
    ),
]


def _export(
    session, fmt: ReportFormat, report: ListReport, columns, title: str, ascii_name: str
) -> Response:
    rows = streamed_rows(session, report)
    return report_response(fmt, ReportSheet(title, columns, rows), title, ascii_name)


@router.get(
    "/reports/coverage",
    tags=["reports"],
    summary="Coverage per city, district, unit or branch, lowest first, with a total row",
    description="Members counted, who took part, who met the hours, coverage, average hours, "
    "sessions, formats and leading-cadre lectures, and the same member counts per category. "
    + EXPORTS,
    responses={**spreadsheet_content("The coverage report."), **problem_responses(404)},
)
def get_coverage_report(
    session: SessionDep,
    principal: PrincipalDep,
    level: ReportLevel = ReportLevel.city,
    parent_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="The district (level=unit) or unit (level=branch)."),
    ] = None,
    batch_id: BatchId = None,
    phase: PhaseQuery = None,
    export_format: FormatQuery = ReportFormat.json,
) -> CoverageReport:
    f = ReportFilter(batch_id=batch_id, phase=phase)
    report = coverage_figures(session, principal, level, f, parent_id)
    if export_format is ReportFormat.json:
        # Serialised as built: the rows are plain values already in the answer's shape, and
        # validating thousands of them again would cost more than the query.
        return Response(to_json(report), media_type="application/json")  # type: ignore[return-value]
    rows = [*report["rows"], report["total"]]
    sheet = ReportSheet(f"覆盖率-{level.label}", COVERAGE_COLUMNS, rows)
    return report_response(  # type: ignore[return-value]
        export_format, sheet, f"学习覆盖率-{level.label}", f"coverage-{level.value}"
    )


@router.get(
    "/reports/gaps",
    tags=["reports"],
    summary="Members with a study gap, the most hours missing first",
    description="Members short of the phase's hours, or with nothing attended in 30 days "
    "while the phase runs, with the remedy suggested. " + EXPORTS,
    responses={**spreadsheet_content("The gaps report."), **problem_responses(404)},
)
def list_study_gaps(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    district_id: Id = None,
    unit_id: Id = None,
    branch_id: Id = None,
    category: MemberCategory | None = None,
    remedy: Remedy | None = None,
    batch_id: BatchId = None,
    phase: PhaseQuery = None,
    export_format: FormatQuery = ReportFormat.json,
) -> Page[GapRow]:
    f = GapFilter(
        batch_id=batch_id,
        phase=phase,
        district_id=district_id,
        unit_id=unit_id,
        branch_id=branch_id,
        category=category,
        remedy=remedy,
    )
    report = gaps(session, principal, f)
    if export_format is ReportFormat.json:
        return report_page(session, report, page)
    return _export(session, export_format, report, GAP_COLUMNS, "学习死角党员", "gaps")  # type: ignore[return-value]


@router.get(
    "/reports/dead-corners",
    tags=["reports"],
    summary="Branches where a category of members was not reached at all",
    description="Per branch and category: members of the category, none of whom attended "
    "anything in the phase. " + EXPORTS,
    responses={**spreadsheet_content("The dead corners."), **problem_responses(404)},
)
def list_dead_corners(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    batch_id: BatchId = None,
    phase: PhaseQuery = None,
    export_format: FormatQuery = ReportFormat.json,
) -> Page[DeadCorner]:
    report = dead_corners(session, principal, ReportFilter(batch_id=batch_id, phase=phase))
    if export_format is ReportFormat.json:
        return report_page(session, report, page)
    return _export(  # type: ignore[return-value]
        session, export_format, report, DEAD_CORNER_COLUMNS, "学习死角", "dead-corners"
    )


@router.get(
    "/reports/weak-branches",
    tags=["reports"],
    summary="Weak branches: flagged by the rule or marked by the department",
    description="Branches where under 60% of members took part, or that held no session in "
    "30 days while the phase runs, or that the department marked weak (until the mark is "
    "done), with the consolidation plan. " + EXPORTS,
    responses={**spreadsheet_content("The weak branches."), **problem_responses(404)},
)
def list_weak_branches(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    batch_id: BatchId = None,
    phase: PhaseQuery = None,
    export_format: FormatQuery = ReportFormat.json,
) -> Page[WeakBranch]:
    report = weak_branches(session, principal, ReportFilter(batch_id=batch_id, phase=phase))
    if export_format is ReportFormat.json:
        return report_page(session, report, page)
    return _export(  # type: ignore[return-value]
        session, export_format, report, WEAK_BRANCH_COLUMNS, "软弱涣散党组织", "weak-branches"
    )


@router.post(
    "/branches/{branch_id}/weak-mark",
    tags=["reports"],
    summary="Mark a branch weak with its consolidation plan, or rewrite the plan",
    status_code=status.HTTP_201_CREATED,
    responses={
        **problem_responses(403, 404, 409),
        200: {
            "model": WeakMarkAnswer,
            "description": "The branch was marked already: its mark was rewritten.",
        },
    },
)
def mark_weak_branch(
    session: SessionDep,
    principal: PrincipalDep,
    branch_id: PathId,
    body: WeakMarkWrite,
    idempotency: IdempotencyDep,
    response: Response,
) -> WeakMarkAnswer:
    if (replay := idempotency.replay(body)) is not None:
        return replay  # type: ignore[return-value]
    mark, created = marks.set_mark(session, principal, branch_id, body)
    answer = marks.answer(session, mark)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    idempotency.remember(response.status_code, answer)
    return answer


@router.delete(
    "/branches/{branch_id}/weak-mark",
    tags=["reports"],
    summary="Take a branch's weak mark away",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404),
)
def unmark_weak_branch(session: SessionDep, principal: PrincipalDep, branch_id: PathId) -> None:
    marks.remove_mark(session, principal, branch_id)
