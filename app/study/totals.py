"""The running totals: kept by differences in the attendance write's own transaction, and
recomputed from the attendance rows to check them (``campaign verify-totals``).

Adding differences (hours = hours + d) commutes, so two writers touching one member at once
both count, whatever the order their transactions commit in; a recomputation from rows read
under READ COMMITTED could lose one of them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app import bulk
from app.study.enums import AttendanceStatus
from app.study.models import Attendance, MemberStudyTotal, SetSession, StudySession

Key = tuple[int, int, str]  # member_id, batch_id, phase
EARNING = tuple(s.value for s in AttendanceStatus if s.earns)


TENTH = Decimal("0.1")


def as_stored(hours: Decimal) -> Decimal:
    """Hours in the one form the attendance columns keep them (tenths): a set's summary then
    reads the same whichever database added it up (PostgreSQL sums those columns; Python
    sums what the request sent, where 1, 1.0 and 1.00 are one number in three forms)."""
    return hours.quantize(TENTH)


class Mark(NamedTuple):
    """One attendance record, as far as the totals care."""

    member_id: int
    status: str
    credited: Decimal


class Recorded(Protocol):
    """A Mark, a stored attendance row, or anything else with these two."""

    status: str
    credited: Decimal


class Contribution(NamedTuple):
    hours: Decimal
    attended: bool
    held_on: date


def contributions(
    study_session: SetSession, records: Iterable[Mark | Attendance]
) -> dict[Key, Contribution]:
    """What a session's records add to each member's totals."""
    batch_id, phase, held_on = study_session.batch_id, study_session.phase, study_session.held_on
    return {
        (r.member_id, batch_id, phase): Contribution(r.credited, r.status in EARNING, held_on)
        for r in records
    }


def apply(session: Session, before: dict[Key, Contribution], after: dict[Key, Contribution]) -> int:
    """Moves the totals from ``before`` to ``after``; answers how many members changed."""
    rows: list[dict] = []
    lost: Lost = {}
    for key in sorted(before.keys() | after.keys()):  # one order: no deadlocks between writers
        b, a = before.get(key), after.get(key)
        d_hours = (a.hours if a else 0) - (b.hours if b else 0)
        d_sessions = int(bool(a and a.attended)) - int(bool(b and b.attended))
        gained = a.held_on if a and a.attended else None
        member_id, batch_id, phase = key
        if b and b.attended and (gained is None or gained < b.held_on):
            # Its last attended date may have gone: look it up again.
            lost.setdefault((batch_id, phase, b.held_on), []).append(member_id)
        elif (
            d_hours == 0 and d_sessions == 0 and gained == (b.held_on if b and b.attended else None)
        ):
            continue
        rows.append(_row(member_id, batch_id, phase, d_hours, d_sessions, gained))
    _write(session, rows, lost)
    return len(rows)


def apply_set(
    session: Session,
    study_session: SetSession,
    changed: Iterable[tuple[int, Recorded | None, Recorded | None]],
) -> int:
    """Moves the totals for records of one session that changed, given as (member id, old
    record or None, new record or None): the attendance write's own path, in one pass and
    without the generality of ``apply`` (the session's batch, phase and date stay)."""
    batch_id, phase, held_on = study_session.batch_id, study_session.phase, study_session.held_on
    rows: list[dict] = []
    lost: Lost = {}
    for member_id, old, new in sorted(changed, key=lambda c: c[0]):  # one order: see apply
        was = old is not None and old.status in EARNING
        now = new is not None and new.status in EARNING
        d_hours = (new.credited if new else 0) - (old.credited if old else 0)
        if was and not now:
            lost.setdefault((batch_id, phase, held_on), []).append(member_id)
        elif was == now and d_hours == 0:
            continue
        rows.append(_row(member_id, batch_id, phase, d_hours, now - was, held_on if now else None))
    _write(session, rows, lost)
    return len(rows)


# Members whose last attended date may have gone, by batch, phase and the date they lost.
Lost = dict[tuple[int, str, date], list[int]]


def _row(
    member_id: int, batch_id: int, phase: str, hours: Decimal, sessions: int, gained: date | None
) -> dict:
    return {
        "member_id": member_id,
        "batch_id": batch_id,
        "phase": phase,
        "hours": hours,
        "sessions": sessions,
        "last_attended_on": gained,
    }


def _write(session: Session, rows: list[dict], lost: Lost) -> None:
    """Adds the rows' differences to the totals, then looks up the lost dates again.

    Lost keys are among the rows even with nothing to add: the upsert locks every touched
    row, in key order (kept on PostgreSQL too), before their dates are looked up again."""
    bulk.insert_rows(
        session,
        MemberStudyTotal.__table__,
        rows,
        finish=add_differences,
        order_by=("member_id", "batch_id", "phase"),
    )
    look_up_lost_dates(session, lost)


def look_up_lost_dates(session: Session, lost: Lost) -> None:
    """Sets the last attended date of members who lost the one they had (``Lost``) from
    their attendance rows. Their totals rows must already be locked by this transaction
    (see ``_last_dates``)."""
    if not lost:
        return
    conn = bulk.connection(session)
    for (batch_id, phase, lost_on), member_ids in lost.items():
        conn.execute(
            _last_dates(conn.dialect.name),
            {
                "of_batch": batch_id,
                "of_phase": phase,
                "lost_on": lost_on,
                "member_ids": bulk.ids_value(conn.dialect.name, member_ids),
            },
        )


@cache
def _last_dates(dialect: str) -> sa.Update:
    """Sets the last attended date of the given members' totals from the attendance rows,
    where the lost session's date could have been it: a member who attended later keeps
    the later date. The upsert has locked these totals rows, so this statement, which
    starts after it, sees every writer that committed before us (READ COMMITTED takes a
    snapshot per statement, and re-reads a row that changed under it)."""
    t = MemberStudyTotal.__table__
    last = (
        sa.select(sa.func.max(StudySession.held_on))
        .join(Attendance, Attendance.session_id == StudySession.id)
        .where(
            Attendance.member_id == t.c.member_id,
            Attendance.status.in_(EARNING),
            StudySession.batch_id == t.c.batch_id,
            StudySession.phase == t.c.phase,
        )
        .scalar_subquery()
    )
    return (
        sa.update(t)
        .where(t.c.batch_id == sa.bindparam("of_batch"), t.c.phase == sa.bindparam("of_phase"))
        .where(bulk.among_ids_param(dialect, t.c.member_id, "member_ids"))
        .where(
            sa.or_(t.c.last_attended_on.is_(None), t.c.last_attended_on <= sa.bindparam("lost_on"))
        )
        .values(last_attended_on=last)
    )


def add_differences(insert: Insert) -> Insert:
    """Adds each row to the member's total, or starts the total with it."""
    t, new = MemberStudyTotal.__table__.c, insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["member_id", "batch_id", "phase"],
        set_={
            "hours": t.hours + new.hours,
            "sessions": t.sessions + new.sessions,
            "last_attended_on": later_date(t.last_attended_on, new.last_attended_on),
        },
    )


def later_date(stored: sa.ColumnElement, gained: sa.ColumnElement) -> sa.ColumnElement:
    """An upsert's new last date: the one gained, if any and later than the stored one."""
    later = sa.and_(gained.is_not(None), sa.or_(stored.is_(None), stored < gained))
    return sa.case((later, gained), else_=stored)


def recomputed() -> sa.Select:
    """The totals as the attendance rows say they are, one row per member, batch and phase."""
    earned = Attendance.status.in_(EARNING)
    return (
        sa.select(
            Attendance.member_id,
            StudySession.batch_id,
            StudySession.phase,
            sa.func.sum(Attendance.credited).label("hours"),
            sa.func.count().filter(earned).label("sessions"),
            sa.func.max(sa.case((earned, StudySession.held_on))).label("last_attended_on"),
        )
        .join(StudySession, StudySession.id == Attendance.session_id)
        .group_by(Attendance.member_id, StudySession.batch_id, StudySession.phase)
    )


@dataclass(frozen=True)
class Difference:
    key: Key
    stored: tuple | None
    expected: tuple | None


def differences(session: Session) -> list[Difference]:
    """Every total that disagrees with the attendance rows (an absent row counts as zero)."""
    expected = {
        (r.member_id, r.batch_id, r.phase): (Decimal(r.hours or 0), r.sessions, r.last_attended_on)
        for r in session.execute(recomputed())
    }
    stored = {
        (t.member_id, t.batch_id, t.phase): (Decimal(t.hours), t.sessions, t.last_attended_on)
        for t in session.scalars(sa.select(MemberStudyTotal))
    }
    return compared(stored, expected, absent=(Decimal(0), 0, None))


def compared(stored: dict, expected: dict, absent: object = None) -> list[Difference]:
    """Every key whose stored figures differ from the expected ones, in key order; a key
    missing on one side counts as ``absent`` there."""
    return [
        Difference(key, stored.get(key), expected.get(key))
        for key in sorted(expected.keys() | stored.keys())
        if stored.get(key, absent) != expected.get(key, absent)
    ]


def repair(session: Session, found: list[Difference]) -> None:
    for d in found:
        member_id, batch_id, phase = d.key
        hours, sessions, last = d.expected or (Decimal(0), 0, None)
        total = session.get(MemberStudyTotal, d.key) or MemberStudyTotal(
            member_id=member_id, batch_id=batch_id, phase=phase
        )
        total.hours, total.sessions, total.last_attended_on = hours, sessions, last
        session.add(total)
    session.flush()
