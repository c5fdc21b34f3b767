"""Rules of the campaign's set-up: campaigns, batches with their phases, enrolment."""

from decimal import Decimal
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign import repository as repo
from app.campaign.enums import Phase
from app.campaign.models import Batch, BatchPhase, Campaign, UnitProgress
from app.campaign.schemas import (
    DEFAULT_COVERAGE,
    DEFAULT_STUDY_HOURS,
    BatchCreate,
    BatchRead,
    BatchUpdate,
    CampaignCreate,
    EnrolmentResult,
    PhaseRead,
    UnitSelection,
)
from app.errors import Conflict, InvalidInput, NotFound
from app.org.models import Unit
from app.org.repository import DistrictRepository


class DuplicateBatchNumber(Conflict):
    type, title = "duplicate-batch-number", "The campaign already has a batch with this number"


class InOtherBatch(Conflict):
    type, title = "unit-in-other-batch", "A unit takes part in one batch only"


def create_campaign(session: Session, principal: Principal, data: CampaignCreate) -> Campaign:
    principal.require(Action.write_campaign)
    campaign = Campaign(**data.model_dump())
    session.add(campaign)
    session.flush()
    audit.created(session, principal, "campaign", campaign, ("name",), district_id=None)
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}.")
    return campaign


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"No batch with id {batch_id}.")
    return batch


def batch_reads(session: Session, batches: list[Batch]) -> list[BatchRead]:
    ids = [b.id for b in batches]
    phases, counts = repo.phases_of(session, ids), repo.enrolled_counts(session, ids)
    return [
        BatchRead(
            id=b.id,
            campaign_id=b.campaign_id,
            number=b.number,
            name=b.name,
            phases=[PhaseRead.model_validate(p) for p in phases[b.id]],
            units=counts[b.id],
        )
        for b in batches
    ]


def _check_order(phases: dict[str, BatchPhase]) -> None:
    """Phases follow each other: none starts before the one it follows."""
    order = [phases[p.value] for p in Phase]
    for earlier, later in pairwise(order):
        if later.starts_on < earlier.starts_on:
            raise InvalidInput.at(
                ["body", "phases", later.phase, "starts_on"],
                f"must not precede {earlier.phase}'s start",
            )
    for p in order:
        if p.ends_on < p.starts_on:
            raise InvalidInput.at(
                ["body", "phases", p.phase, "ends_on"], "must not precede starts_on"
            )


def _phase_snapshot(phases: dict[str, BatchPhase]) -> dict[str, Any]:
    return {
        name: audit.snapshot(p, ("starts_on", "ends_on", "min_hours", "min_coverage"))
        for name, p in phases.items()
    }


def create_batch(
    session: Session, principal: Principal, campaign_id: int, data: BatchCreate
) -> Batch:
    principal.require(Action.write_campaign)
    get_campaign(session, campaign_id)
    taken = sa.select(Batch.id).where(Batch.campaign_id == campaign_id, Batch.number == data.number)
    if session.scalar(taken) is not None:
        raise DuplicateBatchNumber(f"Batch number {data.number} exists in this campaign.")
    batch = Batch(campaign_id=campaign_id, number=data.number, name=data.name)
    session.add(batch)
    session.flush()
    phases = {}
    for phase in Phase:
        window = getattr(data.phases, phase.value)
        default_hours = DEFAULT_STUDY_HOURS if phase is Phase.study else Decimal(0)
        phases[phase.value] = BatchPhase(
            batch_id=batch.id,
            phase=phase.value,
            starts_on=window.starts_on,
            ends_on=window.ends_on,
            min_hours=default_hours if window.min_hours is None else window.min_hours,
            min_coverage=DEFAULT_COVERAGE if window.min_coverage is None else window.min_coverage,
        )
    _check_order(phases)
    session.add_all(phases.values())
    session.flush()
    after = {"number": batch.number, "name": batch.name, **_phase_snapshot(phases)}
    audit.record(session, principal, "create", "batch", batch.id, district_id=None, after=after)
    return batch


def update_batch(session: Session, principal: Principal, batch_id: int, data: BatchUpdate) -> Batch:
    """Windows and requirements are data: a change applies to every report at once."""
    batch = get_batch(session, batch_id)
    principal.require(Action.write_campaign)
    phases = {p.phase: p for p in repo.phases_of(session, [batch.id])[batch.id]}
    before = {"name": batch.name, **_phase_snapshot(phases)}
    if data.name is not None:
        batch.name = data.name
    for phase in Phase:
        patch = getattr(data.phases, phase.value) if data.phases else None
        if patch is not None:
            for field, value in patch.changes().items():
                setattr(phases[phase.value], field, value)
    _check_order(phases)
    session.flush()
    after = {"name": batch.name, **_phase_snapshot(phases)}
    audit.record(
        session,
        principal,
        "update",
        "batch",
        batch.id,
        district_id=None,
        before=before,
        after=after,
    )
    return batch


def selected_units(session: Session, principal: Principal, selection: UnitSelection) -> list[int]:
    """The units asked for: a district's units in the caller's scope, or the ids given, all of
    which must be in scope (one that is not refuses the request, as a missing one would)."""
    progress = repo.ProgressRepository(session, principal)
    if selection.district_id is not None:
        if not DistrictRepository(session, principal).exists(selection.district_id):
            raise NotFound(f"No district with id {selection.district_id}.")
        return progress.units_of_district(selection.district_id)
    asked = list(dict.fromkeys(selection.unit_ids or ()))
    visible = progress.visible_unit_ids(asked)
    unknown = [(i, u) for i, u in enumerate(asked) if u not in visible]
    if unknown:
        raise InvalidInput.unknown_items("unit_ids", "unit", unknown)
    return asked


def enrol_units(
    session: Session, principal: Principal, batch_id: int, selection: UnitSelection
) -> list[EnrolmentResult]:
    """All or nothing: a unit already in another batch, or one the caller cannot reach,
    refuses the whole request; units already in this batch are simply reported."""
    batch = get_batch(session, batch_id)
    principal.require(Action.enrol_units)
    asked = selected_units(session, principal, selection)
    existing = {
        p.unit_id: p
        for p in session.scalars(sa.select(UnitProgress).where(UnitProgress.unit_id.in_(asked)))
    }
    elsewhere = [u for u, p in existing.items() if p.batch_id != batch.id]
    if elsewhere:
        raise InOtherBatch(
            f"{len(elsewhere)} unit(s) already take part in another batch.",
            extensions={"unit_ids": sorted(elsewhere)},
        )
    new = [u for u in asked if u not in existing]
    session.add_all(UnitProgress(unit_id=u, batch_id=batch.id) for u in new)
    session.flush()
    # One entry per district the new units lie in, so that each district's admins read the
    # enrolment of their units (a city admin's selection by ids may span districts).
    district_of = dict(
        session.execute(sa.select(Unit.id, Unit.district_id).where(Unit.id.in_(new))).all()
    )
    by_district: dict[int, list[int]] = {}
    for unit_id in new:
        by_district.setdefault(district_of[unit_id], []).append(unit_id)
    for district_id, unit_ids in by_district.items():
        audit.record(
            session,
            principal,
            "enrol",
            "batch",
            batch.id,
            district_id=district_id,
            after={"unit_ids": unit_ids},
        )
    return [
        EnrolmentResult(
            unit_id=u, status="already_enrolled" if u in existing else "enrolled", batch_id=batch.id
        )
        for u in asked
    ]
