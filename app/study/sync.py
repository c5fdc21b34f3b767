"""Offline sync: a phone's queue of sessions, each applied or refused on its own."""

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Action, Principal
from app.errors import AppError, Forbidden, InvalidInput, NotFound
from app.study import attendance, service
from app.study.models import StudySession
from app.study.repository import SessionRepository
from app.study.schemas import SessionCreate, SyncItem, SyncRequest, SyncResult


def sync_sessions(session: Session, principal: Principal, request: SyncRequest) -> list[SyncResult]:
    """Each item in a savepoint: one refused item leaves the others written. An item whose id
    is new is created; a known one is brought to the item's content (``updated``) or left
    as it is when it already matches (``unchanged``)."""
    principal.require(Action.record_session)
    results = []
    for index, item in enumerate(request.sessions):
        savepoint = session.begin_nested()
        try:
            result = _sync_one(session, principal, item, ("body", "sessions", index))
        except AppError as exc:
            savepoint.rollback()
            results.append(SyncResult(id=item.id, result="rejected", problem=exc.body()))
        except (DataError, IntegrityError, OverflowError):
            # A value the database refuses (a number out of range): this item's fault.
            # Anything else (a timeout, a lost connection) fails the request, to be retried.
            savepoint.rollback()
            problem = InvalidInput("A value of this session cannot be stored.").body()
            results.append(SyncResult(id=item.id, result="rejected", problem=problem))
        else:
            savepoint.commit()
            results.append(SyncResult(id=item.id, result=result))
    return results


def _sync_one(
    session: Session, principal: Principal, item: SyncItem, at: tuple[str | int, ...]
) -> str:
    service.wait_for_earlier_send(session, item.id)
    if session.get(StudySession, item.id) is None:
        data = SessionCreate(**item.model_dump())
        service.create_session(session, principal, data, at=at)
        return "created"
    existing = SessionRepository(session, principal).get(item.id, for_update=True)
    if existing is None:
        raise NotFound(f"No session with id {item.id}.")
    if item.branch_id != existing.branch_id:
        raise service.SessionIdTaken("This id belongs to a session of another branch.")
    # A resent item without a phase keeps the session's own, whatever the unit's phase is now.
    phase = item.phase.value if item.phase else existing.phase
    changed = False
    if not service.same_content(existing, item, item.branch_id, phase):
        if not principal.may(Action.edit_session):
            raise Forbidden("Changing a recorded session is for unit admins and above.")
        fields = item.model_dump(exclude={"id", "branch_id", "attendance"}) | {"phase": phase}
        service.apply_changes(
            session, principal, existing, fields, at=at, set_follows=item.attendance is not None
        )
        changed = True
    if item.attendance is not None:  # left out: the recorded set stays as it is
        written = attendance.write_attendance(
            session, principal, existing, item.attendance, at=(*at, "attendance")
        )
        changed = written.changed or changed
    return "updated" if changed else "unchanged"
