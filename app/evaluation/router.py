"""/branches/{id}/evaluations (民主评议) and the evaluation report."""

from typing import Annotated

from fastapi import Query

from app.auth.dependencies import PrincipalDep
from app.db import SessionDep
from app.errors import problem_responses
from app.evaluation import report, service
from app.evaluation.schemas import BranchEvaluations, EvaluationSet, EvaluationsWritten
from app.pagination import Page, PageQuery
from app.reports.enums import ReportLevel
from app.reports.export import EXPORTS, FormatQuery, ReportFormat
from app.reports.listing import report_page
from app.routing import APIRouter
from app.schemas import MAX_ID, PathId
from app.spreadsheets import spreadsheet_content

router = APIRouter(responses=problem_responses(401, 422))

OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.put(
    "/branches/{branch_id}/evaluations",
    tags=["evaluation"],
    summary="Write a branch's evaluations in a batch as a set (the same set twice changes "
    "nothing); ratings below qualified open a rectification item",
    responses=problem_responses(403, 404, 409, 413),
)
def put_branch_evaluations(
    session: SessionDep, principal: PrincipalDep, branch_id: PathId, body: EvaluationSet
) -> EvaluationsWritten:
    return service.put_evaluations(session, principal, branch_id, body)


@router.get(
    "/branches/{branch_id}/evaluations",
    tags=["evaluation"],
    summary="A branch's evaluations in a batch, and its members not yet evaluated",
    responses=problem_responses(404, 409),
)
def get_branch_evaluations(
    session: SessionDep,
    principal: PrincipalDep,
    branch_id: PathId,
    batch_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Default: the unit's batch.")
    ] = None,
) -> BranchEvaluations:
    return service.branch_evaluations(session, principal, branch_id, batch_id)


@router.get(
    "/reports/evaluations",
    tags=["reports"],
    summary="Rating distribution and members not yet evaluated, per level",
    description="One row per district, unit or branch (or the city) over the units that "
    "have reached the evaluation phase, least evaluated first, with a total row. "
    "`parent_id`: the district of level=unit rows, the unit of level=branch rows. " + EXPORTS,
    responses={**spreadsheet_content("The evaluation report."), **problem_responses(404)},
)
def get_evaluation_report(
    session: SessionDep,
    principal: PrincipalDep,
    level: ReportLevel = ReportLevel.district,
    parent_id: OptionalId = None,
    batch_id: OptionalId = None,
    export_format: FormatQuery = ReportFormat.json,
) -> report.EvaluationReport:
    answer = report.evaluation_report(session, principal, level, batch_id, parent_id)
    if export_format is ReportFormat.json:
        return answer
    return report.export_report(answer, export_format)  # type: ignore[return-value]


@router.get(
    "/reports/evaluations/not-evaluated",
    tags=["reports"],
    summary="Members due and not yet evaluated, by unit and branch",
    description=EXPORTS,
    responses={
        **spreadsheet_content("The members not yet evaluated."),
        **problem_responses(404),
    },
)
def list_members_not_evaluated(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    batch_id: OptionalId = None,
    district_id: OptionalId = None,
    unit_id: OptionalId = None,
    branch_id: OptionalId = None,
    export_format: FormatQuery = ReportFormat.json,
) -> Page[report.NotEvaluatedMember]:
    listing = report.not_evaluated_report(
        session,
        principal,
        batch_id=batch_id,
        district_id=district_id,
        unit_id=unit_id,
        branch_id=branch_id,
    )
    if export_format is ReportFormat.json:
        return report_page(session, listing, page)
    return report.export_not_evaluated(session, export_format, listing)  # type: ignore[return-value]
