"""Attendance sets: who may be recorded at a session, and the write that replaces a
session's set and moves the running totals (app/study/totals.py) in the same transaction."""

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import bulk
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaign.models import UnitProgress
from app.errors import InvalidInput
from app.limits import PayloadTooLarge
from app.org.enums import MemberStatus
from app.org.models import Branch, Member
from app.org.repository import district_of_branch
from app.study import set_statement, totals
from app.study.models import Attendance, SetSession
from app.study.schemas import MAX_RECORDS, AttendanceRecord

# Where a PUT's records are in its request; a session's inline set is ("body", "attendance").
RECORDS_AT = ("body", "records")


def credited(status: str, hours: Decimal | None, session_hours: Decimal) -> Decimal:
    """Present and late earn the session's hours, or the record's own if fewer; excused and
    absent earn nothing."""
    if status not in totals.EARNING:
        return Decimal(0)
    return session_hours if hours is None else min(Decimal(hours), session_hours)


def _check_records(
    session: Session,
    study_session: SetSession,
    records: list[AttendanceRecord],
    at: tuple[str | int, ...],
) -> dict[int, bool]:
    """Which members may be recorded, and which of them are guests. Members of the branch,
    and migrant or outgoing members of any other branch (credited in their own); and anyone
    already in the session's stored set, as stored: a member who has since moved to another
    branch, left or died still attended, and the set must stay correctable without dropping
    them (and their hours). Anyone else is refused, with the same words whether or not they
    exist."""
    seen: set[int] = set()
    for i, r in enumerate(records):
        if r.member_id in seen:
            raise InvalidInput.at([*at, i, "member_id"], "appears twice in the set")
        seen.add(r.member_id)
        if r.hours is not None and r.hours > study_session.hours:
            raise InvalidInput.at([*at, i, "hours"], "more than the session's hours")
    conn = bulk.connection(session)
    dialect = conn.dialect.name
    rows = conn.execute(
        _recordable(dialect),
        {
            "member_ids": bulk.ids_value(dialect, sorted(seen)),
            "of_branch": study_session.branch_id,
            "of_batch": study_session.batch_id,
        },
    ).all()
    guests = {member_id: bool(guest) for member_id, guest in rows}
    if missing := sorted(seen - guests.keys()):
        stored = conn.execute(
            _stored(dialect),
            {"of_session": study_session.id, "member_ids": bulk.ids_value(dialect, missing)},
        ).all()
        guests.update((member_id, bool(guest)) for member_id, guest in stored)
    for i, r in enumerate(records):
        if r.member_id not in guests:
            raise InvalidInput.at(
                [*at, i, "member_id"],
                f"member {r.member_id} is not an active member of this branch, nor a migrant "
                "or outgoing member of the same batch who may attend as a guest",
            )
    return guests


@cache
def _stored(dialect: str) -> sa.Select:
    """Of the given members, those in the session's stored set, with their guest flag."""
    a = Attendance.__table__
    return (
        sa.select(a.c.member_id, a.c.is_guest)
        .where(a.c.session_id == sa.bindparam("of_session", type_=a.c.session_id.type))
        .where(bulk.among_ids_param(dialect, a.c.member_id, "member_ids"))
    )


@cache
def _recordable(dialect: str) -> sa.Select:
    """Of the given members, those the session may record, each with whether they come as
    a guest. A guest's hours are kept under the session's batch and phase: only a guest
    whose own unit is in the same batch would see them in their own look-back. The guest's
    unit is looked up for members of other branches only: a set is mostly the branch's own."""
    own = Member.branch_id == sa.bindparam("of_branch")
    unit_in_batch = (
        sa.select(UnitProgress.unit_id)
        .join(Branch, Branch.unit_id == UnitProgress.unit_id)
        .where(Branch.id == Member.branch_id)
        .where(UnitProgress.batch_id == sa.bindparam("of_batch"))
        .exists()
    )
    return (
        sa.select(Member.id, sa.not_(own))
        .where(bulk.among_ids_param(dialect, Member.id, "member_ids"))
        .where(Member.status == MemberStatus.active.value)
        .where(sa.or_(own, sa.and_(sa.or_(Member.is_migrant, Member.is_outgoing), unit_in_batch)))
    )


class Written(NamedTuple):
    changed: bool
    summary: dict[str, Any]  # counts per status and the credited hours of the set


def attendance_summary(records: Sequence[totals.Mark]) -> dict[str, Any]:
    counts = Counter(r.status for r in records)
    return {
        **{s: counts[s] for s in set_statement.STATUSES},
        "credited_hours": totals.as_stored(sum((r.credited for r in records), Decimal(0))),
    }


def write_attendance(
    session: Session,
    principal: Principal,
    study_session: SetSession,
    records: list[AttendanceRecord],
    *,
    district_id: int | None = None,
    at: tuple[str | int, ...] = RECORDS_AT,
) -> Written:
    """Replaces the session's set; answers whether anything changed, and the set's counts.
    The same set written again changes no row, no total and writes no audit entry.
    ``at``: where the records are in the request, for the location of a refused record's
    error (a PUT's ``records``, a new session's ``attendance``, a sync item's).

    Set-based, in a handful of statements whatever the set's size: this is the path every
    secretary's phone takes, many at once. Only the records that differ from the stored set
    are written: changed ones are updated in place (their member and session keys stay, so
    PostgreSQL does not check those foreign keys again, as a delete and insert would make
    it do for every record), new ones inserted, dropped ones deleted; and only their
    members' totals move. On PostgreSQL the comparison and the writes are one statement
    (app/study/set_statement.py); elsewhere they run here.
    """
    if len(records) > MAX_RECORDS:
        raise PayloadTooLarge(
            f"At most {MAX_RECORDS} records per set; this one has {len(records)}."
        )
    guests = _check_records(session, study_session, records, at)
    session_hours = Decimal(study_session.hours)
    rows = [
        {
            "member_id": r.member_id,
            "status": r.status.value,
            "hours": r.hours,
            "credited": credited(r.status.value, r.hours, session_hours),
            "is_guest": guests[r.member_id],
        }
        for r in records
    ]
    if bulk.connection(session).dialect.name == "postgresql":
        changed, before, after = set_statement.write_set(session, study_session, rows)
    else:
        changed, before, after = _write_set(session, study_session, rows)
    if not changed:
        return Written(False, after)
    audit.record(
        session,
        principal,
        "attendance",
        "session",
        study_session.id,
        district_id=(
            district_of_branch(session, study_session.branch_id)
            if district_id is None
            else district_id
        ),
        before=before,
        after=after,
    )
    return Written(True, after)


def _write_set(
    session: Session, study_session: SetSession, rows: list[dict[str, Any]]
) -> set_statement.SetWritten:
    """set_statement.write_set's work, in Python: the stored set is read and compared here."""
    table = Attendance.__table__
    conn = bulk.connection(session)
    old = {
        r.member_id: r
        for r in conn.execute(
            sa.select(*(table.c[n] for n in set_statement.RECORD)).where(
                table.c.session_id == study_session.id
            )
        )
    }
    marks = [totals.Mark(row["member_id"], row["status"], row["credited"]) for row in rows]
    written, changed = [], []
    for row, mark in zip(rows, marks, strict=True):
        was = old.get(mark.member_id)
        # A record is rewritten when anything stored differs, its guest flag included (a
        # member who has since joined the branch is no longer a guest).
        if was is None or tuple(was) != tuple(row[n] for n in set_statement.RECORD):
            changed.append((mark.member_id, was, mark))
            written.append({"session_id": study_session.id, **row})
    dropped = old.keys() - {mark.member_id for mark in marks}
    after = attendance_summary(marks)
    before = attendance_summary(list(old.values()))
    if dropped:
        dialect = conn.dialect.name
        conn.execute(
            sa.delete(table).where(
                table.c.session_id == study_session.id,
                bulk.among_ids_param(dialect, table.c.member_id, "member_ids"),
            ),
            {"member_ids": bulk.ids_value(dialect, sorted(dropped))},
        )
    bulk.insert_rows(
        session, table, written, finish=set_statement.replace_record, order_by=("member_id",)
    )
    totals.apply_set(session, study_session, [*changed, *((m, old[m], None) for m in dropped)])
    return set_statement.SetWritten(len(written) + len(dropped), before, after)
