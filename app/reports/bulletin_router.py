"""/reports/progress and /reports/bulletin: the department's view of how far the units are,
and the dated situation bulletin (情况通报)."""

from enum import StrEnum
from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse

from app.auth.dependencies import PrincipalDep
from app.campaign.service import get_batch
from app.clock import today
from app.db import SessionDep
from app.errors import InvalidInput, NotFound, problem_responses
from app.org.repository import DistrictRepository
from app.reports.bulletin import Bulletin, bulletin, export_bulletin
from app.reports.bulletin_html import STYLE_CSP, render_bulletin
from app.reports.export import FormatQuery, ReportFormat
from app.reports.progress import ProgressReport, export_progress, progress_report
from app.routing import APIRouter
from app.schemas import MAX_ID, Day
from app.spreadsheets import XLSX_MEDIA_TYPE, SpreadsheetFormat, spreadsheet_content

router = APIRouter(prefix="/reports", tags=["reports"], responses=problem_responses(401, 422))

ParentId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class BulletinFormat(StrEnum):
    json = "json"
    xlsx = "xlsx"
    html = "html"


@router.get(
    "/progress",
    summary="Units per phase, per batch and district; overdue and extended units",
    description="Every batch with units in the caller's scope: units per state, overdue and "
    "extended units with their dates, and the same counts per district. With `format=csv`, "
    "the counts table; with `format=xlsx`, three sheets (counts, overdue, extended).",
    responses={**spreadsheet_content("The progress report."), **problem_responses(404)},
)
def get_progress_report(
    session: SessionDep,
    principal: PrincipalDep,
    batch_id: ParentId = None,
    district_id: ParentId = None,
    export_format: FormatQuery = ReportFormat.json,
) -> ProgressReport:
    if batch_id is not None:
        get_batch(session, batch_id)
    if district_id is not None and DistrictRepository(session, principal).get(district_id) is None:
        raise NotFound(f"No district with id {district_id}.")
    report = progress_report(session, principal, today(), batch_id, district_id)
    if export_format is not ReportFormat.json:
        return export_progress(report, SpreadsheetFormat(export_format))  # type: ignore[return-value]
    return report


@router.get(
    "/bulletin",
    summary="The situation bulletin (情况通报) as of a day: JSON, XLSX or a printable page",
    description="Districts ranked by coverage, units with one session format only, units "
    "without a leading cadre's party lecture, overdue units, weak branches and dead corners "
    "by category, over the caller's scope. `as_of` (default today, Asia/Shanghai) is the day "
    "the 30-day and overdue rules are measured at: today, or a later day to see what they "
    "will say then if nothing more is recorded; the figures are always the running totals as "
    "they are now, so a past day is refused (422). `format=xlsx`: one sheet per section; "
    "`format=html`: a printable Chinese page.",
    responses={
        200: {
            "description": "The bulletin.",
            "content": {
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        **problem_responses(404),
    },
)
def get_bulletin(
    session: SessionDep,
    principal: PrincipalDep,
    as_of: Annotated[
        Day | None, Query(description="The bulletin's day: today (the default) or later.")
    ] = None,
    batch_id: ParentId = None,
    export_format: Annotated[
        BulletinFormat, Query(alias="format", description="json (default), xlsx or html.")
    ] = BulletinFormat.json,
) -> Bulletin:
    day = today()
    if as_of is not None and as_of < day:
        # The running totals keep no history: a past day's bulletin would date today's
        # figures, sessions held since included, as that day's.
        raise InvalidInput.field(
            "as_of", f"must be today ({day.isoformat()}) or later", where="query"
        )
    answer = bulletin(session, principal, as_of or day, batch_id)
    if export_format is BulletinFormat.xlsx:
        return export_bulletin(answer)  # type: ignore[return-value]
    if export_format is BulletinFormat.html:
        page = render_bulletin(answer)
        headers = {"Content-Security-Policy": STYLE_CSP}
        return HTMLResponse(page, headers=headers)  # type: ignore[return-value]
    return answer
