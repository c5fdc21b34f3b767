"""/inspections and the inspection report."""

from typing import Annotated

from fastapi import Query, status

from app.auth.dependencies import PrincipalDep
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.inspection import report, service
from app.inspection.enums import Assessment
from app.inspection.export import inspection_export
from app.inspection.models import Inspection
from app.inspection.repository import InspectionFilter, InspectionRepository
from app.inspection.schemas import FindingRead, InspectionCreate, InspectionDetail, InspectionRead
from app.pagination import Page, PageQuery, paginate_batch
from app.reports.export import FormatQuery, ReportFormat
from app.routing import APIRouter
from app.schemas import MAX_ID, Day, PathId
from app.spreadsheets import spreadsheet_content

router = APIRouter(tags=["inspection"], responses=problem_responses(401, 422))

ParentId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _details(session, principal, inspections: list[Inspection]) -> list[InspectionDetail]:
    findings = InspectionRepository(session, principal).findings([i.id for i in inspections])
    return [
        InspectionDetail(
            **InspectionRead.model_validate(i).model_dump(),
            findings=[FindingRead.model_validate(f) for f in findings[i.id]],
        )
        for i in inspections
    ]


@router.get("/inspections", summary="List inspections (督导检查) with their findings")
def list_inspections(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    district_id: ParentId = None,
    unit_id: ParentId = None,
    assessment: Assessment | None = None,
    inspected_from: Day | None = None,
    inspected_to: Day | None = None,
) -> Page[InspectionDetail]:
    f = InspectionFilter(
        district_id, unit_id, assessment and assessment.value, inspected_from, inspected_to
    )
    stmt = InspectionRepository(session, principal).search(f)
    return paginate_batch(session, stmt, page, lambda rows: _details(session, principal, rows))


@router.post(
    "/inspections",
    summary="Record an inspection; a finding may open a rectification item in the same call",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 404, 409),
)
def create_inspection(
    session: SessionDep,
    principal: PrincipalDep,
    body: InspectionCreate,
    idempotency: IdempotencyDep,
) -> InspectionDetail:
    def produce() -> InspectionDetail:
        inspection = service.record_inspection(session, principal, body)
        return _details(session, principal, [inspection])[0]

    return idempotency.answer(body, status.HTTP_201_CREATED, produce)


@router.get(
    "/inspections/{inspection_id}",
    summary="Read an inspection with its findings",
    responses=problem_responses(404),
)
def get_inspection(
    session: SessionDep, principal: PrincipalDep, inspection_id: PathId
) -> InspectionDetail:
    return _details(session, principal, [service.get_or_404(session, principal, inspection_id)])[0]


@router.get(
    "/reports/inspections",
    tags=["reports"],
    summary="Units inspected per district, and the units never inspected",
    description="JSON by default; `format=csv` answers the districts, `format=xlsx` the "
    "districts and the units never inspected, with Chinese headers and labels.",
    responses={**spreadsheet_content("The inspection report."), **problem_responses(404)},
)
def get_inspection_report(
    session: SessionDep,
    principal: PrincipalDep,
    district_id: ParentId = None,
    batch_id: ParentId = None,
    export_format: FormatQuery = ReportFormat.json,
) -> report.InspectionReport:
    answer = report.inspection_report(
        session, principal, report.ReportFilter(district_id, batch_id)
    )
    if export_format is ReportFormat.json:
        return answer
    return inspection_export(export_format, answer)  # type: ignore[return-value]
