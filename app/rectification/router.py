"""/rectifications, their steps, and the rectification report."""

from datetime import date
from typing import Annotated

from fastapi import Query, status

from app.auth.dependencies import PrincipalDep
from app.clock import today
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.pagination import Page, PageQuery, paginate
from app.rectification import export, report, service
from app.rectification.enums import RectificationSource, RectificationStatus
from app.rectification.models import RectificationItem
from app.rectification.repository import ItemFilter, ItemRepository
from app.rectification.schemas import (
    RectificationCreate,
    RectificationDetail,
    RectificationRead,
    RectificationUpdate,
    StepRead,
    TransitionRequest,
)
from app.reports.export import FormatQuery, ReportFormat
from app.routing import APIRouter
from app.schemas import MAX_ID, PathId
from app.spreadsheets import spreadsheet_content

router = APIRouter(tags=["rectification"], responses=problem_responses(401, 422))

ParentId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
WRITE = problem_responses(403, 404, 409)


def _read(item: RectificationItem, on: date) -> RectificationRead:
    fields = {f: getattr(item, f) for f in RectificationRead.model_fields if f != "overdue"}
    return RectificationRead.model_validate({**fields, "overdue": service.is_overdue(item, on)})


def _detail(session, principal, item: RectificationItem) -> RectificationDetail:
    steps = ItemRepository(session, principal).steps(item.id)
    return RectificationDetail(
        **_read(item, today()).model_dump(),
        steps=[StepRead.model_validate(s) for s in steps],
    )


@router.get("/rectifications", summary="List rectification items (整改事项)")
def list_rectifications(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    district_id: ParentId = None,
    unit_id: ParentId = None,
    branch_id: ParentId = None,
    member_id: ParentId = None,
    status: RectificationStatus | None = None,
    source: RectificationSource | None = None,
    overdue: Annotated[
        bool, Query(description="Only items past their deadline and not yet done.")
    ] = False,
) -> Page[RectificationRead]:
    on = today()
    f = ItemFilter(
        district_id,
        unit_id,
        branch_id,
        member_id,
        status and status.value,
        source and source.value,
        on if overdue else None,
    )
    stmt = ItemRepository(session, principal).search(f)
    return paginate(session, stmt, page, lambda item: _read(item, on))


@router.post(
    "/rectifications",
    summary="Open a rectification item, in any phase of the unit",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409),
)
def create_rectification(
    session: SessionDep,
    principal: PrincipalDep,
    body: RectificationCreate,
    idempotency: IdempotencyDep,
) -> RectificationDetail:
    return idempotency.answer(
        body,
        status.HTTP_201_CREATED,
        lambda: _detail(session, principal, service.create_item(session, principal, body)),
    )


@router.get(
    "/rectifications/{item_id}",
    summary="Read a rectification item with its steps and evidence notes",
    responses=problem_responses(404),
)
def get_rectification(
    session: SessionDep, principal: PrincipalDep, item_id: PathId
) -> RectificationDetail:
    return _detail(session, principal, service.get_or_404(session, principal, item_id))


@router.patch(
    "/rectifications/{item_id}",
    summary="Change an item's problem, measures, owner, deadline or branch (not once verified)",
    responses=WRITE,
)
def update_rectification(
    session: SessionDep, principal: PrincipalDep, item_id: PathId, body: RectificationUpdate
) -> RectificationDetail:
    item = service.update_item(session, principal, item_id, body.changes())
    return _detail(session, principal, item)


@router.post(
    "/rectifications/{item_id}/transitions",
    summary="Move an item one step (open → in_progress → done → verified) with evidence",
    responses=WRITE,
)
def transition_rectification(
    session: SessionDep,
    principal: PrincipalDep,
    item_id: PathId,
    body: TransitionRequest,
    idempotency: IdempotencyDep,
) -> RectificationDetail:
    def produce() -> RectificationDetail:
        item = service.transition(session, principal, item_id, body.to, body.note)
        return _detail(session, principal, item)

    return idempotency.answer(body, status.HTTP_200_OK, produce)


@router.get(
    "/reports/rectifications",
    tags=["reports"],
    summary="Rectification items per status at a level of the tree, and the overdue items",
    description="Districts: every district in scope; units: those with items. JSON by "
    "default; `format=csv` answers the counts, `format=xlsx` the counts and the overdue "
    "items, with Chinese headers and labels.",
    responses={**spreadsheet_content("The rectification report."), **problem_responses(404)},
)
def get_rectification_report(
    session: SessionDep,
    principal: PrincipalDep,
    level: report.Level = report.Level.district,
    district_id: ParentId = None,
    unit_id: ParentId = None,
    source: RectificationSource | None = None,
    export_format: FormatQuery = ReportFormat.json,
) -> report.RectificationReport:
    answer = report.rectification_report(
        session,
        principal,
        level,
        report.ReportFilter(district_id, unit_id, source and source.value),
        today(),
    )
    if export_format is ReportFormat.json:
        return answer
    return export.rectification_export(export_format, answer)  # type: ignore[return-value]
