"""A unit's way through the phases: reading it, advancing it, and the look-back gate."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign import repository as repo
from app.campaign.enums import Phase, UnitState
from app.campaign.lookback import look_back
from app.campaign.models import BatchPhase, PhaseMove, UnitProgress
from app.campaign.schemas import (
    AdvanceRequest,
    AdvanceResult,
    BulkAdvanceRequest,
    LookBackRead,
    PhaseMoveRead,
    ProgressRead,
)
from app.campaign.service import get_batch, selected_units
from app.clock import today, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.evaluation.gate import check_evaluated
from app.org.repository import UnitRepository, district_of_unit
from app.org.scope import branch_condition
from app.rectification.gate import check_completion

DEFAULT_EXTENSION = timedelta(days=14)


class NotEnrolled(Conflict):
    type, title = "unit-not-enrolled", "The unit takes part in no batch"


class AlreadyCompleted(Conflict):
    type, title = "unit-completed", "The unit has completed the campaign"


class WrongStep(Conflict):
    type, title = "wrong-step", "That is not the unit's next step"


class ConcurrentMove(Conflict):
    type, title = "concurrent-move", "The unit was moved by another request"


class LookBackFailed(Conflict):
    type, title = "look-back-failed", "The unit does not meet the phase's requirement"


def _unit_progress(session: Session, principal: Principal, unit_id: int) -> UnitProgress | None:
    """The unit's progress; 404 when the unit is outside the caller's scope."""
    if UnitRepository(session, principal).get(unit_id) is None:
        raise NotFound(f"No unit with id {unit_id}.")
    return session.get(UnitProgress, unit_id)


def _enrolled(
    session: Session, principal: Principal, unit_id: int, action: Action | None = None
) -> UnitProgress:
    """The unit's progress: 404 outside the caller's scope, then 403 without ``action``'s
    permission (whether or not the unit is enrolled), then 409 when it is in no batch."""
    progress = _unit_progress(session, principal, unit_id)
    if action is not None:
        principal.require(action)
    if progress is None:
        raise NotEnrolled(f"Unit {unit_id} is in no batch; enrol it first.")
    return progress


def phase_of(progress: UnitProgress) -> Phase:
    """The phase a look-back is about: the current one; study before the campaign reaches
    the unit, rectification after it completed."""
    state = UnitState(progress.state)
    if state is UnitState.not_started:
        return Phase.study
    return state.phase or Phase.rectification


def _is_overdue(due_on: date | None, extended_until: date | None) -> bool:
    if due_on is None:
        return False
    return today() > max(due_on, extended_until or due_on)


def read_progress(session: Session, principal: Principal, unit_id: int) -> ProgressRead:
    progress = _unit_progress(session, principal, unit_id)
    if progress is None:
        empty = {"batch_id": None, "state": None, "entered_at": None, "due_on": None}
        return ProgressRead(
            unit_id=unit_id, **empty, extended_until=None, overdue=False, history=[]
        )
    state = UnitState(progress.state)
    window = repo.phase(session, progress.batch_id, state.phase) if state.phase else None
    due_on = window.ends_on if window else None
    moves = session.scalars(
        sa.select(PhaseMove)
        .where(PhaseMove.unit_id == unit_id, PhaseMove.batch_id == progress.batch_id)
        .order_by(PhaseMove.at, PhaseMove.id)
    )
    return ProgressRead(
        unit_id=unit_id,
        batch_id=progress.batch_id,
        state=state,
        entered_at=progress.entered_at,
        due_on=due_on,
        extended_until=progress.extended_until,
        overdue=_is_overdue(due_on, progress.extended_until),
        history=[PhaseMoveRead.model_validate(m) for m in moves],
    )


def read_look_back(session: Session, principal: Principal, unit_id: int) -> LookBackRead:
    progress = _enrolled(session, principal, unit_id)
    requirement = repo.phase(session, progress.batch_id, phase_of(progress))
    return look_back(session, unit_id, requirement, branch_condition(principal))


@dataclass(frozen=True)
class Moved:
    from_state: UnitState
    to_state: UnitState


def _check_extension(extend_until: date | None, study: BatchPhase) -> None:
    if extend_until is None:
        return
    if extend_until < today():
        raise InvalidInput.field("extend_until", "must not be in the past")
    if extend_until <= study.ends_on:
        # An extension adds days after the window; one inside it would be shown and counted
        # as an extension while extending nothing.
        raise InvalidInput.field(
            "extend_until", f"must be after the study phase's end, {study.ends_on.isoformat()}"
        )


def advance_unit(
    session: Session, principal: Principal, unit_id: int, req: AdvanceRequest
) -> Moved:
    """Moves the unit one step. Leaving study runs the look-back: a failure extends the
    phase and answers 409 with the findings, unless a district or city admin overrides it."""
    progress = _enrolled(session, principal, unit_id, Action.advance_unit)
    if req.override_reason is not None:
        principal.require(Action.override_gate)
    _check_extension(req.extend_until, repo.phase(session, progress.batch_id, Phase.study))
    try:
        return _advance(session, principal, progress, req)
    except LookBackFailed:
        # The refusal answers 409, yet the extension it granted must stay: commit it now.
        session.commit()
        raise


def _advance(
    session: Session, principal: Principal, progress: UnitProgress, req: AdvanceRequest
) -> Moved:
    current = UnitState(progress.state)
    target = current.next
    if target is None:
        raise AlreadyCompleted(f"Unit {progress.unit_id} has completed; there is no next step.")
    if req.to is not None and req.to is not target:
        raise WrongStep(
            f"Unit {progress.unit_id} is in {current.value}: its next step is {target.value}, "
            f"not {req.to.value}.",
            extensions={"state": current.value, "next": target.value},
        )
    overridden = None
    if current is UnitState.study:
        study = repo.phase(session, progress.batch_id, Phase.study)
        findings = look_back(session, progress.unit_id, study)
        if not findings.ok and req.override_reason is None:
            _extend(session, principal, progress, study, req.extend_until)
            raise LookBackFailed(
                f"Coverage {findings.coverage:.1%} of {findings.members} members is below "
                f"{findings.min_coverage:.0%}; the study phase is extended to "
                f"{progress.extended_until.isoformat()} for make-up study.",
                extensions={"look_back": findings.model_dump(mode="json")},
            )
        overridden = None if findings.ok else req.override_reason
    elif current is UnitState.evaluation:
        overridden = check_evaluated(
            session, progress.unit_id, progress.batch_id, req.override_reason
        )
    elif current is UnitState.rectification:
        overridden = check_completion(session, progress.unit_id, req.override_reason)
    moved = session.execute(
        sa.update(UnitProgress)
        .where(UnitProgress.unit_id == progress.unit_id, UnitProgress.version == progress.version)
        .values(
            state=target.value,
            version=UnitProgress.version + 1,
            entered_at=utcnow(),
            extended_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        # Another request moved the unit between our read and this write: it won.
        raise ConcurrentMove(f"Unit {progress.unit_id} was just moved by another request.")
    session.add(
        PhaseMove(
            unit_id=progress.unit_id,
            batch_id=progress.batch_id,
            from_state=current.value,
            to_state=target.value,
            user_id=principal.user_id,
            username=principal.username,
            override_reason=overridden,
        )
    )
    audit.record(
        session,
        principal,
        "override" if overridden else "advance",
        "unit",
        progress.unit_id,
        district_id=district_of_unit(session, progress.unit_id),
        before={"state": current.value},
        after={"state": target.value, "override_reason": overridden},
    )
    session.flush()
    session.refresh(progress)
    return Moved(current, target)


def _extend(
    session: Session,
    principal: Principal,
    progress: UnitProgress,
    study: BatchPhase,
    until: date | None,
) -> None:
    """Extends the study phase past its window: to ``until``, or by default 14 days past the
    window's end (past today, for a unit refused after its window closed)."""
    before = progress.extended_until
    wanted = until or max(today(), study.ends_on) + DEFAULT_EXTENSION
    current = UnitProgress.extended_until
    # Only while the unit is still in this batch's study: another request may have moved it
    # on since its look-back was read, and the extension is not for the phase it is in now.
    # Not on the version: a refusal racing another refusal (a double tap) extends too, and
    # answers the look-back. A later refusal never cuts short an extension already granted.
    extended = session.execute(
        sa.update(UnitProgress)
        .where(
            UnitProgress.unit_id == progress.unit_id,
            UnitProgress.batch_id == progress.batch_id,
            UnitProgress.state == UnitState.study.value,
        )
        .values(
            extended_until=sa.case(
                (sa.or_(current.is_(None), current < wanted), wanted), else_=current
            )
        )
        .execution_options(synchronize_session=False)
    )
    if extended.rowcount != 1:
        raise ConcurrentMove(f"Unit {progress.unit_id} was just moved by another request.")
    session.refresh(progress)
    audit.record(
        session,
        principal,
        "extend",
        "unit",
        progress.unit_id,
        district_id=district_of_unit(session, progress.unit_id),
        before={"extended_until": before},
        after={"extended_until": progress.extended_until},
    )


def bulk_advance(
    session: Session, principal: Principal, batch_id: int, req: BulkAdvanceRequest
) -> list[AdvanceResult]:
    """Each unit moves or is refused on its own (a savepoint each), so one unit's failed
    look-back does not hold back the others; refusals keep their extensions."""
    get_batch(session, batch_id)
    principal.require(Action.advance_unit)
    if req.override_reason is not None:
        principal.require(Action.override_gate)
    _check_extension(req.extend_until, repo.phase(session, batch_id, Phase.study))
    asked = selected_units(session, principal, req)
    progress = repo.ProgressRepository(session, principal).progress(asked)
    one = AdvanceRequest(
        to=req.to, override_reason=req.override_reason, extend_until=req.extend_until
    )
    results = []
    for unit_id in asked:
        p = progress.get(unit_id)
        if p is None or p.batch_id != batch_id:
            results.append(
                AdvanceResult(unit_id=unit_id, status="not_in_batch", detail="not in this batch")
            )
            continue
        savepoint = session.begin_nested()
        try:
            moved = _advance(session, principal, p, one)
        except LookBackFailed as exc:
            savepoint.commit()  # keep the extension
            results.append(_refused(unit_id, p, exc))
        except Conflict as exc:
            savepoint.rollback()
            results.append(_refused(unit_id, p, exc))
        else:
            savepoint.commit()
            results.append(
                AdvanceResult(
                    unit_id=unit_id,
                    status="advanced",
                    from_state=moved.from_state,
                    to_state=moved.to_state,
                )
            )
    return results


def _refused(unit_id: int, progress: UnitProgress, exc: Conflict) -> AdvanceResult:
    return AdvanceResult(
        unit_id=unit_id, status="refused", from_state=UnitState(progress.state), detail=exc.detail
    )
