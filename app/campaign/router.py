"""/campaigns, /batches and a unit's progress, look-back and advance."""

from typing import Annotated

from fastapi import Body, status

from app.auth.dependencies import PrincipalDep
from app.campaign import exemptions, progress, service
from app.campaign import repository as repo
from app.campaign.schemas import (
    AdvanceRequest,
    AdvanceResult,
    BatchCreate,
    BatchRead,
    BatchUpdate,
    BulkAdvanceRequest,
    CampaignCreate,
    CampaignRead,
    EnrolmentResult,
    ExemptionRead,
    ExemptionWrite,
    LookBackRead,
    ProgressRead,
    UnitSelection,
)
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.pagination import Page, PageQuery, paginate, paginate_batch
from app.routing import APIRouter
from app.schemas import PathId

router = APIRouter(responses=problem_responses(401, 422))

READ = problem_responses(404)
WRITE = problem_responses(403, 404, 409)


@router.get("/campaigns", tags=["campaign"], summary="List campaigns")
def list_campaigns(
    session: SessionDep, principal: PrincipalDep, page: PageQuery
) -> Page[CampaignRead]:
    return paginate(session, repo.campaigns(), page, CampaignRead.model_validate)


@router.post(
    "/campaigns",
    tags=["campaign"],
    summary="Create a campaign",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409),
)
def create_campaign(
    session: SessionDep, principal: PrincipalDep, body: CampaignCreate, idempotency: IdempotencyDep
) -> CampaignRead:
    return idempotency.answer(
        body,
        201,
        lambda: CampaignRead.model_validate(service.create_campaign(session, principal, body)),
    )


@router.get(
    "/campaigns/{campaign_id}", tags=["campaign"], summary="Read a campaign", responses=READ
)
def get_campaign(session: SessionDep, principal: PrincipalDep, campaign_id: PathId) -> CampaignRead:
    return CampaignRead.model_validate(service.get_campaign(session, campaign_id))


@router.get(
    "/campaigns/{campaign_id}/batches",
    tags=["campaign"],
    summary="List a campaign's batches with their phases",
    responses=READ,
)
def list_batches(
    session: SessionDep, principal: PrincipalDep, campaign_id: PathId, page: PageQuery
) -> Page[BatchRead]:
    service.get_campaign(session, campaign_id)
    stmt = repo.batches_of(campaign_id)
    return paginate_batch(session, stmt, page, lambda rows: service.batch_reads(session, rows))


@router.post(
    "/campaigns/{campaign_id}/batches",
    tags=["campaign"],
    summary="Create a batch with its phase windows and requirements",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def create_batch(
    session: SessionDep,
    principal: PrincipalDep,
    campaign_id: PathId,
    body: BatchCreate,
    idempotency: IdempotencyDep,
) -> BatchRead:
    def produce() -> BatchRead:
        batch = service.create_batch(session, principal, campaign_id, body)
        return service.batch_reads(session, [batch])[0]

    return idempotency.answer(body, 201, produce)


@router.get("/batches/{batch_id}", tags=["campaign"], summary="Read a batch", responses=READ)
def get_batch(session: SessionDep, principal: PrincipalDep, batch_id: PathId) -> BatchRead:
    return service.batch_reads(session, [service.get_batch(session, batch_id)])[0]


@router.patch(
    "/batches/{batch_id}",
    tags=["campaign"],
    summary="Change a batch's name, windows or requirements",
    responses=WRITE,
)
def update_batch(
    session: SessionDep, principal: PrincipalDep, batch_id: PathId, body: BatchUpdate
) -> BatchRead:
    batch = service.update_batch(session, principal, batch_id, body)
    return service.batch_reads(session, [batch])[0]


@router.post(
    "/batches/{batch_id}/units",
    tags=["campaign"],
    summary="Enrol units in a batch (by ids or a whole district)",
    responses=WRITE,
)
def enrol_units(
    session: SessionDep,
    principal: PrincipalDep,
    batch_id: PathId,
    body: UnitSelection,
    idempotency: IdempotencyDep,
) -> list[EnrolmentResult]:
    return idempotency.answer(
        body, 200, lambda: service.enrol_units(session, principal, batch_id, body)
    )


@router.post(
    "/batches/{batch_id}/advance",
    tags=["campaign"],
    summary="Advance many units of a batch, answering per unit",
    responses=WRITE,
)
def advance_units(
    session: SessionDep,
    principal: PrincipalDep,
    batch_id: PathId,
    body: BulkAdvanceRequest,
    idempotency: IdempotencyDep,
) -> list[AdvanceResult]:
    return idempotency.answer(
        body, 200, lambda: progress.bulk_advance(session, principal, batch_id, body)
    )


@router.get(
    "/units/{unit_id}/progress",
    tags=["campaign"],
    summary="A unit's phase, due date, extension and history of moves",
    responses=READ,
)
def get_unit_progress(
    session: SessionDep, principal: PrincipalDep, unit_id: PathId
) -> ProgressRead:
    return progress.read_progress(session, principal, unit_id)


@router.get(
    "/units/{unit_id}/look-back",
    tags=["campaign"],
    summary="The look-back (回头看) of a unit's current phase",
    description="Who has not met the phase's hours, per branch, with the remedy for each. "
    "A branch secretary sees their own branch: its members, and the figures counted over "
    "them.",
    responses=problem_responses(404, 409),
)
def get_unit_look_back(
    session: SessionDep, principal: PrincipalDep, unit_id: PathId
) -> LookBackRead:
    return progress.read_look_back(session, principal, unit_id)


@router.post(
    "/units/{unit_id}/advance",
    tags=["campaign"],
    summary="Move a unit to its next phase (409 with the look-back findings if it may not)",
    responses=WRITE,
)
def advance_unit(
    session: SessionDep,
    principal: PrincipalDep,
    unit_id: PathId,
    idempotency: IdempotencyDep,
    # Every field has a default: "move it on" is a POST with no body.
    body: Annotated[AdvanceRequest, Body(default_factory=AdvanceRequest)],
) -> ProgressRead:
    def produce() -> ProgressRead:
        progress.advance_unit(session, principal, unit_id, body)
        return progress.read_progress(session, principal, unit_id)

    return idempotency.answer(body, 200, produce)


@router.put(
    "/members/{member_id}/exemption",
    tags=["campaign"],
    summary="Exempt a member from the current phase's look-back, with a reason",
    responses=WRITE,
)
def set_member_exemption(
    session: SessionDep, principal: PrincipalDep, member_id: PathId, body: ExemptionWrite
) -> ExemptionRead:
    return ExemptionRead.model_validate(
        exemptions.set_exemption(session, principal, member_id, body)
    )


@router.delete(
    "/members/{member_id}/exemption",
    tags=["campaign"],
    summary="Withdraw a member's exemption from the current phase",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE,
)
def remove_member_exemption(
    session: SessionDep, principal: PrincipalDep, member_id: PathId
) -> None:
    exemptions.remove_exemption(session, principal, member_id)
