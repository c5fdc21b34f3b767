"""Rules of study sessions. Every write moves the running totals in the same transaction
(the members' in app/study/totals.py, then the branch's in app/study/branch_totals.py), so
reports never disagree with the records; a session's attendance set is written by
app/study/attendance.py."""

import uuid
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign import repository as campaign_repo
from app.campaign.enums import Phase
from app.campaign.models import UnitProgress
from app.campaign.progress import phase_of
from app.clock import today
from app.db import advisory_xact_lock
from app.errors import Conflict, InvalidInput, NotFound, UnknownReference
from app.org.repository import BranchRepository, district_of_branch
from app.study import branch_totals, totals
from app.study.attendance import attendance_summary, credited, write_attendance
from app.study.models import Attendance, StudySession
from app.study.repository import SessionRepository
from app.study.schemas import (
    AttendanceRecord,
    AttendanceWritten,
    SessionCreate,
    SessionFields,
    SessionUpdate,
)

SESSION_FIELDS = (
    "branch_id",
    "phase",
    "held_on",
    "format",
    "hours",
    "topic",
    "lecturer",
    "lecturer_is_leading_cadre",
    "location",
)


class NotInCampaign(Conflict):
    type, title = "unit-not-enrolled", "The branch's unit takes part in no batch"


class SessionIdTaken(Conflict):
    type, title = "session-id-taken", "A different session already has this id"


def get_or_404(
    session: Session, principal: Principal, session_id: uuid.UUID, *, for_update: bool = False
) -> StudySession:
    found = SessionRepository(session, principal).get(session_id, for_update=for_update)
    if found is None:
        raise NotFound(f"No session with id {session_id}.")
    return found


def _check_date(
    session: Session,
    unit_id: int,
    batch_id: int,
    phase: str,
    held_on: date,
    at: tuple[str | int, ...] = ("body",),
) -> None:
    """A session lies in its phase's window, or in the unit's extension of it (make-up study),
    and not in the future. ``at``: where the session's fields are in the request."""
    if held_on > today():
        raise InvalidInput.at([*at, "held_on"], "must not be in the future")
    window = campaign_repo.phase(session, batch_id, phase)
    progress = session.get(UnitProgress, unit_id)
    extended = progress.extended_until if progress and progress.state == phase else None
    last = max(window.ends_on, extended or window.ends_on)
    if not window.starts_on <= held_on <= last:
        raise InvalidInput.at(
            [*at, "held_on"],
            f"must lie in the {phase} phase's window, {window.starts_on} to {last}",
        )


def placement(session: Session, principal: Principal, branch_id: int, phase: Phase | None):
    branch = BranchRepository(session, principal).get(branch_id)
    if branch is None:
        raise UnknownReference.to("branch_id", "branch", branch_id)
    progress = session.get(UnitProgress, branch.unit_id)
    if progress is None:
        raise NotInCampaign(f"The unit of branch {branch_id} takes part in no batch yet.")
    return branch, progress.batch_id, (phase or phase_of(progress)).value


def same_content(found: StudySession, data: SessionFields, branch_id: int, phase: str) -> bool:
    wanted = {
        **data.model_dump(include=set(SESSION_FIELDS)),
        "branch_id": branch_id,
        "phase": phase,
    }
    return all(getattr(found, f) == wanted[f] for f in SESSION_FIELDS if f in wanted)


def wait_for_earlier_send(session: Session, session_id: uuid.UUID) -> None:
    """A phone may resend a session while its first send is still running: the resend waits
    for the first's end (PostgreSQL; taken again by the same transaction, it does not wait),
    then finds the session, instead of failing on its id."""
    advisory_xact_lock(session, f"study_session:{session_id}")


def create_session(
    session: Session,
    principal: Principal,
    data: SessionCreate,
    *,
    at: tuple[str | int, ...] = ("body",),
) -> tuple[StudySession, bool]:
    """The session and whether it was created now (False: the client sent it before).
    ``at``: where the session's fields are in the request, for their errors (a sync item's
    are under body.sessions.n)."""
    attendance_at = (*at, "attendance")
    principal.require(Action.record_session)
    branch, batch_id, phase = placement(session, principal, data.branch_id, data.phase)
    if data.id is not None:
        wait_for_earlier_send(session, data.id)
    if data.id is not None and session.get(StudySession, data.id) is not None:
        return _sent_again(session, principal, data, branch.id, attendance_at), False
    _check_date(session, branch.unit_id, batch_id, phase, data.held_on, at)
    fields = data.model_dump(exclude={"id", "phase", "attendance"})
    study_session = StudySession(
        **fields,
        **({"id": data.id} if data.id else {}),
        unit_id=branch.unit_id,
        batch_id=batch_id,
        phase=phase,
        created_by=principal.user_id,
    )
    session.add(study_session)
    session.flush()
    audit.created(
        session,
        principal,
        "session",
        study_session,
        SESSION_FIELDS,
        district_id=district_of_branch(session, branch.id),
    )
    if data.attendance is not None:
        write_attendance(session, principal, study_session, data.attendance, at=attendance_at)
    # Last, as in an edit or a delete: every writer locks the members' totals before its
    # branch's (no deadlock), and holds the branch's row, which all its sessions share, for
    # the shortest time.
    branch_totals.move(session, None, branch_totals.held(study_session))
    return study_session, True


def _sent_again(
    session: Session,
    principal: Principal,
    data: SessionCreate,
    branch_id: int,
    attendance_at: tuple[str | int, ...],
) -> StudySession:
    """A session the client sent before (the same id). A resend without a phase keeps the
    session's own, whatever the unit's phase is now (a phone may retry days later); an
    attendance set sent with it is written, as offline sync does, rather than dropped
    without a word. Any other content is another session under a taken id."""
    found = SessionRepository(session, principal).get(
        data.id, for_update=data.attendance is not None
    )
    if found is None or not same_content(
        found, data, branch_id, data.phase.value if data.phase else found.phase
    ):
        raise SessionIdTaken("Another session already has this id; make a new UUID.")
    if data.attendance is not None:
        write_attendance(session, principal, found, data.attendance, at=attendance_at)
    return found


def update_session(
    session: Session, principal: Principal, session_id: uuid.UUID, data: SessionUpdate
) -> StudySession:
    study_session = get_or_404(session, principal, session_id, for_update=True)
    principal.require(Action.edit_session)
    return apply_changes(session, principal, study_session, data.changes())


def apply_changes(
    session: Session,
    principal: Principal,
    study_session: StudySession,
    changes: dict,
    *,
    at: tuple[str | int, ...] = ("body",),
    set_follows: bool = False,
) -> StudySession:
    """Edits a session; the credited hours and the totals follow a change of hours, date or
    phase. Only the fields whose values differ are applied: with none, nothing is written
    and no audit entry made (a phone's retried PATCH). ``at``: where the changed fields are
    in the request, for their errors. ``set_follows``: the caller writes a whole new
    attendance set next (sync), which is checked against the new hours then, so the stored
    records are not held to them here."""
    differing = {}
    for field, value in changes.items():
        stored = value.value if isinstance(value, Phase) else value
        if getattr(study_session, field) != stored:
            differing[field] = stored
    changes = differing
    if not changes:
        return study_session
    records = SessionRepository(session, principal).attendance(study_session.id)
    before_totals = totals.contributions(study_session, records)
    before_held = branch_totals.held(study_session)
    before = audit.snapshot(study_session, SESSION_FIELDS)
    for field, value in changes.items():
        setattr(study_session, field, value)
    # Only a new date or phase is checked against the window: a make-up session held in an
    # extension stays editable after the unit has moved on.
    if changes.keys() & {"held_on", "phase"}:
        _check_date(
            session,
            study_session.unit_id,
            study_session.batch_id,
            study_session.phase,
            study_session.held_on,
            at,
        )
    if "hours" in changes:
        hours = Decimal(study_session.hours)
        above = [r for r in records if r.hours is not None and r.hours > hours]
        if above and not set_follows:
            # Refused rather than cut: the set as recorded must stay one the secretary
            # could send again.
            worst = max(above, key=lambda r: r.hours)
            raise InvalidInput.at(
                [*at, "hours"],
                f"member {worst.member_id} is recorded with {worst.hours} hours at this "
                "session; correct their attendance first",
            )
        for r in records:
            r.credited = credited(r.status, r.hours, hours)
    session.flush()
    totals.apply(session, before_totals, totals.contributions(study_session, records))
    branch_totals.move(session, before_held, branch_totals.held(study_session))
    audit.record(
        session,
        principal,
        "update",
        "session",
        study_session.id,
        district_id=district_of_branch(session, study_session.branch_id),
        before=before,
        after=audit.snapshot(study_session, SESSION_FIELDS),
    )
    return study_session


def delete_session(session: Session, principal: Principal, session_id: uuid.UUID) -> None:
    study_session = get_or_404(session, principal, session_id, for_update=True)
    principal.require(Action.edit_session)
    records = SessionRepository(session, principal).attendance(study_session.id)
    taken_back = totals.contributions(study_session, records)
    gone = branch_totals.held(study_session)
    before = {**audit.snapshot(study_session, SESSION_FIELDS), **attendance_summary(records)}
    session.execute(sa.delete(Attendance).where(Attendance.session_id == study_session.id))
    session.delete(study_session)
    session.flush()
    # After the rows are gone, so that a last date is looked up without them.
    totals.apply(session, taken_back, {})
    branch_totals.move(session, gone, None)
    audit.record(
        session,
        principal,
        "delete",
        "session",
        session_id,
        district_id=district_of_branch(session, study_session.branch_id),
        before=before,
    )


def put_attendance(
    session: Session, principal: Principal, session_id: uuid.UUID, records: list[AttendanceRecord]
) -> AttendanceWritten:
    study_session = SessionRepository(session, principal).locked_for_attendance(session_id)
    if study_session is None:
        raise NotFound(f"No session with id {session_id}.")
    principal.require(Action.record_session)
    written = write_attendance(
        session, principal, study_session, records, district_id=study_session.district_id
    )
    return AttendanceWritten(
        session_id=study_session.id,
        changed=written.changed,
        records=len(records),
        **{**written.summary, "credited_hours": float(written.summary["credited_hours"])},
    )
