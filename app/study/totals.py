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
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app import bulk
from app.study.enums import AttendanceStatus
from app.study.models import Attendance, MemberStudyTotal, StudySession

Key = tuple[int, int, str]  # member_id, batch_id, phase
EARNING = tuple(s.value for s in AttendanceStatus if s.earns)


class Mark(NamedTuple):
    """One attendance record, as far as the totals care."""

    member_id: int
    status: str
    credited: Decimal


@dataclass(frozen=True)
class Contribution:
    hours: Decimal
    attended: bool
    held_on: date


def contributions(
    study_session: StudySession, records: Iterable[Mark | Attendance]
) -> dict[Key, Contribution]:
    """What a session's records add to each member's totals."""
    batch_id, phase, held_on = study_session.batch_id, study_session.phase, study_session.held_on
    return {
        (r.member_id, batch_id, phase): Contribution(
            Decimal(r.credited), r.status in EARNING, held_on
        )
        for r in records
    }


def apply(session: Session, before: dict[Key, Contribution], after: dict[Key, Contribution]) -> int:
    """Moves the totals from ``before`` to ``after``; answers how many members changed."""
    rows, lost = [], []
    for key in sorted(before.keys() | after.keys()):  # one order: no deadlocks between writers
        b, a = before.get(key), after.get(key)
        d_hours = (a.hours if a else 0) - (b.hours if b else 0)
        d_sessions = int(bool(a and a.attended)) - int(bool(b and b.attended))
        gained = a.held_on if a and a.attended else None
        losing = bool(b and b.attended and (gained is None or gained < b.held_on))
        if losing:
            lost.append(key)  # its last attended date may have gone: look it up again
        elif (
            d_hours == 0 and d_sessions == 0 and gained == (b.held_on if b and b.attended else None)
        ):
            continue
        member_id, batch_id, phase = key
        # Lost keys go through the upsert too, even with nothing to add: it locks every
        # touched row in one sorted pass before their dates are looked up again.
        rows.append(
            {
                "member_id": member_id,
                "batch_id": batch_id,
                "phase": phase,
                "hours": d_hours,
                "sessions": d_sessions,
                "last_attended_on": gained,
            }
        )
    # The rows are in key order, and stay in it on PostgreSQL too.
    bulk.insert_rows(
        session,
        MemberStudyTotal.__table__,
        rows,
        finish=_add_differences,
        order_by=("member_id", "batch_id", "phase"),
    )
    if lost:
        _look_up_last_dates(session, lost)
    return len(rows)


def _look_up_last_dates(session: Session, keys: list[Key]) -> None:
    """Sets the last attended date of each key from the attendance rows. The upsert above
    has locked these totals rows, so this statement, which starts after it, sees every
    writer that committed before us (READ COMMITTED takes a snapshot per statement)."""
    groups: dict[tuple[int, str], list[int]] = {}
    for member_id, batch_id, phase in keys:
        groups.setdefault((batch_id, phase), []).append(member_id)
    t = MemberStudyTotal.__table__
    for (batch_id, phase), member_ids in groups.items():
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
        session.execute(
            sa.update(t)
            .where(t.c.batch_id == batch_id, t.c.phase == phase)
            .where(bulk.among_ids(session, t.c.member_id, member_ids))
            .values(last_attended_on=last)
        )


def _add_differences(insert: Insert) -> Insert:
    """Adds each row to the member's total, or starts the total with it."""
    t, new = MemberStudyTotal.__table__.c, insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["member_id", "batch_id", "phase"],
        set_={
            "hours": t.hours + new.hours,
            "sessions": t.sessions + new.sessions,
            "last_attended_on": sa.case(
                (
                    sa.and_(
                        new.last_attended_on.is_not(None),
                        sa.or_(
                            t.last_attended_on.is_(None), t.last_attended_on < new.last_attended_on
                        ),
                    ),
                    new.last_attended_on,
                ),
                else_=t.last_attended_on,
            ),
        },
    )


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
    zero = (Decimal(0), 0, None)
    out = []
    for key in sorted(expected.keys() | stored.keys()):
        s, e = stored.get(key, zero), expected.get(key, zero)
        if s != e:
            out.append(Difference(key, stored.get(key), expected.get(key)))
    return out


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
