"""Rules of study sessions and their attendance. Every write moves the running totals in
the same transaction (app/study/totals.py), so reports never disagree with the records."""

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app import bulk
from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign import repository as campaign_repo
from app.campaign.enums import Phase
from app.campaign.models import UnitProgress
from app.campaign.progress import phase_of
from app.clock import today
from app.errors import Conflict, InvalidInput, NotFound, UnknownReference
from app.limits import PayloadTooLarge
from app.org.enums import MemberStatus
from app.org.models import Branch, Member
from app.org.repository import BranchRepository, district_of_branch
from app.study import totals
from app.study.models import Attendance, StudySession
from app.study.repository import SessionRepository
from app.study.schemas import (
    MAX_RECORDS,
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


def _check_date(session: Session, unit_id: int, batch_id: int, phase: str, held_on: date) -> None:
    """A session lies in its phase's window, or in the unit's extension of it (make-up study),
    and not in the future."""
    if held_on > today():
        raise InvalidInput.field("held_on", "must not be in the future")
    window = campaign_repo.phase(session, batch_id, phase)
    progress = session.get(UnitProgress, unit_id)
    extended = progress.extended_until if progress and progress.state == phase else None
    last = max(window.ends_on, extended or window.ends_on)
    if not window.starts_on <= held_on <= last:
        raise InvalidInput.field(
            "held_on", f"must lie in the {phase} phase's window, {window.starts_on} to {last}"
        )


def credited(status: str, hours: Decimal | None, session_hours: Decimal) -> Decimal:
    """Present and late earn the session's hours, or the record's own if fewer; excused and
    absent earn nothing."""
    if status not in totals.EARNING:
        return Decimal(0)
    return session_hours if hours is None else min(Decimal(hours), session_hours)


def _check_records(
    session: Session, study_session: StudySession, records: list[AttendanceRecord]
) -> dict[int, bool]:
    """Which members may be recorded, and which of them are guests. Members of the branch,
    and migrant or outgoing members of any other branch (credited in their own); anyone else
    is refused, with the same words whether or not they exist."""
    seen: set[int] = set()
    for i, r in enumerate(records):
        if r.member_id in seen:
            raise InvalidInput.at(["body", "records", i, "member_id"], "appears twice in the set")
        seen.add(r.member_id)
        if r.hours is not None and r.hours > study_session.hours:
            raise InvalidInput.at(["body", "records", i, "hours"], "more than the session's hours")
    conn = bulk.connection(session)
    rows = conn.execute(
        _recordable(conn.dialect.name),
        {
            "member_ids": bulk.ids_value(conn.dialect.name, sorted(seen)),
            "of_branch": study_session.branch_id,
            "of_batch": study_session.batch_id,
        },
    ).all()
    guests = {member_id: bool(guest) for member_id, guest in rows}
    for i, r in enumerate(records):
        if r.member_id not in guests:
            raise InvalidInput.at(
                ["body", "records", i, "member_id"],
                f"member {r.member_id} is not an active member of this branch, nor a migrant "
                "or outgoing member of the same batch who may attend as a guest",
            )
    return guests


@cache
def _recordable(dialect: str) -> sa.Select:
    """Of the given members, those the session may record, each with whether they come as
    a guest. A guest's hours are kept under the session's batch and phase: only a guest
    whose own unit is in the same batch would see them in their own look-back."""
    own = Member.branch_id == sa.bindparam("of_branch")
    return (
        sa.select(Member.id, sa.not_(own))
        .join(Branch, Branch.id == Member.branch_id)
        .outerjoin(UnitProgress, UnitProgress.unit_id == Branch.unit_id)
        .where(bulk.among_ids_param(dialect, Member.id, "member_ids"))
        .where(Member.status == MemberStatus.active.value)
        .where(
            sa.or_(
                own,
                sa.and_(
                    sa.or_(Member.is_migrant, Member.is_outgoing),
                    UnitProgress.batch_id == sa.bindparam("of_batch"),
                ),
            )
        )
    )


class Written(NamedTuple):
    changed: bool
    summary: dict[str, Any]  # counts per status and the credited hours of the set


def _attendance_summary(records: Sequence[totals.Mark]) -> dict[str, Any]:
    counts = Counter(r.status for r in records)
    return {
        **{s: counts[s] for s in ("present", "late", "excused", "absent")},
        "credited_hours": sum((r.credited for r in records), Decimal(0)),
    }


def write_attendance(
    session: Session,
    principal: Principal,
    study_session: StudySession,
    records: list[AttendanceRecord],
    *,
    district_id: int | None = None,
) -> Written:
    """Replaces the session's set; answers whether anything changed, and the set's counts.
    The same set written again changes no row, no total and writes no audit entry.

    Set-based, in a handful of statements whatever the set's size: this is the path every
    secretary's phone takes, many at once. Only the records that differ from the stored set
    are written: changed ones are updated in place (their member and session keys stay, so
    PostgreSQL does not check those foreign keys again, as a delete and insert would make
    it do for every record), new ones inserted, dropped ones deleted; and only their
    members' totals move.
    """
    if len(records) > MAX_RECORDS:
        raise PayloadTooLarge(
            f"At most {MAX_RECORDS} records per set; this one has {len(records)}."
        )
    guests = _check_records(session, study_session, records)
    table = Attendance.__table__
    conn = bulk.connection(session)
    old = {
        r.member_id: r
        for r in conn.execute(
            sa.select(
                table.c.member_id,
                table.c.status,
                table.c.hours,
                table.c.credited,
                table.c.is_guest,
            ).where(table.c.session_id == study_session.id)
        )
    }
    session_hours = Decimal(study_session.hours)
    new_marks, written, changed = [], [], []
    for r in records:
        status = r.status.value
        mark = totals.Mark(r.member_id, status, credited(status, r.hours, session_hours))
        new_marks.append(mark)
        was = old.get(r.member_id)
        guest = guests[r.member_id]
        # A record is rewritten when anything stored differs, its guest flag included (a
        # member who has since joined the branch is no longer a guest).
        if was is None or (was.status, was.hours, was.credited, was.is_guest) != (
            status,
            r.hours,
            mark.credited,
            guest,
        ):
            changed.append((r.member_id, was, mark))
            written.append(
                {
                    "session_id": study_session.id,
                    "member_id": r.member_id,
                    "status": status,
                    "hours": r.hours,
                    "credited": mark.credited,
                    "is_guest": guest,
                }
            )
    dropped = old.keys() - {m.member_id for m in new_marks}
    summary = _attendance_summary(new_marks)
    if not written and not dropped:
        return Written(False, summary)
    if dropped:
        conn.execute(
            sa.delete(table).where(
                table.c.session_id == study_session.id,
                bulk.among_ids(session, table.c.member_id, sorted(dropped)),
            )
        )
    bulk.insert_rows(session, table, written, finish=_replace_record, order_by=("member_id",))
    totals.apply_set(session, study_session, [*changed, *((m, old[m], None) for m in dropped)])
    audit.record(
        session,
        principal,
        "attendance",
        "session",
        study_session.id,
        district_id=district_id or district_of_branch(session, study_session.branch_id),
        before=_attendance_summary(list(old.values())),
        after=summary,
    )
    return Written(True, summary)


def _replace_record(insert: Insert) -> Insert:
    """A record already in the set takes the new status, hours and credit."""
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["session_id", "member_id"],
        set_={c: new[c] for c in ("status", "hours", "credited", "is_guest")},
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


def create_session(
    session: Session, principal: Principal, data: SessionCreate
) -> tuple[StudySession, bool]:
    """The session and whether it was created now (False: the client sent it before)."""
    principal.require(Action.record_session)
    branch, batch_id, phase = placement(session, principal, data.branch_id, data.phase)
    if data.id is not None:
        existing = session.get(StudySession, data.id)
        if existing is not None:
            visible = SessionRepository(session, principal).get(data.id) is not None
            if visible and same_content(existing, data, branch.id, phase):
                return existing, False
            raise SessionIdTaken("Another session already has this id; make a new UUID.")
    _check_date(session, branch.unit_id, batch_id, phase, data.held_on)
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
        write_attendance(session, principal, study_session, data.attendance)
    return study_session, True


def update_session(
    session: Session, principal: Principal, session_id: uuid.UUID, data: SessionUpdate
) -> StudySession:
    study_session = get_or_404(session, principal, session_id, for_update=True)
    principal.require(Action.edit_session)
    return apply_changes(session, principal, study_session, data.changes())


def apply_changes(
    session: Session, principal: Principal, study_session: StudySession, changes: dict
) -> StudySession:
    """Edits a session; the credited hours and the totals follow a change of hours, date or
    phase."""
    records = SessionRepository(session, principal).attendance(study_session.id)
    before_totals = totals.contributions(study_session, records)
    before = audit.snapshot(study_session, SESSION_FIELDS)
    for field, value in changes.items():
        setattr(study_session, field, value.value if isinstance(value, Phase) else value)
    # Only a new date or phase is checked against the window: a make-up session held in an
    # extension stays editable after the unit has moved on.
    if changes.keys() & {"held_on", "phase"}:
        _check_date(
            session,
            study_session.unit_id,
            study_session.batch_id,
            study_session.phase,
            study_session.held_on,
        )
    if "hours" in changes:
        for r in records:
            r.credited = credited(r.status, r.hours, Decimal(study_session.hours))
    session.flush()
    totals.apply(session, before_totals, totals.contributions(study_session, records))
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
    before = {**audit.snapshot(study_session, SESSION_FIELDS), **_attendance_summary(records)}
    session.execute(sa.delete(Attendance).where(Attendance.session_id == study_session.id))
    session.delete(study_session)
    session.flush()
    # After the rows are gone, so that a last-attended date is looked up without them.
    totals.apply(session, taken_back, {})
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
    found = SessionRepository(session, principal).locked_with_district(session_id)
    if found is None:
        raise NotFound(f"No session with id {session_id}.")
    study_session, district_id = found
    principal.require(Action.record_session)
    written = write_attendance(session, principal, study_session, records, district_id=district_id)
    return AttendanceWritten(
        session_id=study_session.id,
        changed=written.changed,
        records=len(records),
        **{**written.summary, "credited_hours": float(written.summary["credited_hours"])},
    )
