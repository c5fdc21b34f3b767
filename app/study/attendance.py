"""Attendance sets: who may be recorded at a session, and the write that replaces a
session's set and moves the running totals (app/study/totals.py) in the same transaction."""

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app import bulk
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaign.models import UnitProgress
from app.errors import InvalidInput
from app.limits import PayloadTooLarge
from app.org.enums import MemberStatus
from app.org.models import Branch, Member
from app.org.repository import district_of_branch
from app.study import totals
from app.study.models import Attendance, StudySession
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
    study_session: StudySession,
    records: list[AttendanceRecord],
    stored: dict[int, Any],
    at: tuple[str | int, ...],
) -> dict[int, bool]:
    """Which members may be recorded, and which of them are guests. Members of the branch,
    and migrant or outgoing members of any other branch (credited in their own); and anyone
    already in the session's stored set (``stored``), as stored: a member who has since moved
    to another branch, left or died still attended, and the set must stay correctable without
    dropping them (and their hours). Anyone else is refused, with the same words whether or
    not they exist."""
    seen: set[int] = set()
    for i, r in enumerate(records):
        if r.member_id in seen:
            raise InvalidInput.at([*at, i, "member_id"], "appears twice in the set")
        seen.add(r.member_id)
        if r.hours is not None and r.hours > study_session.hours:
            raise InvalidInput.at([*at, i, "hours"], "more than the session's hours")
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
        if r.member_id not in guests and r.member_id in stored:
            guests[r.member_id] = stored[r.member_id].is_guest
        elif r.member_id not in guests:
            raise InvalidInput.at(
                [*at, i, "member_id"],
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


def attendance_summary(records: Sequence[totals.Mark]) -> dict[str, Any]:
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
    members' totals move.
    """
    if len(records) > MAX_RECORDS:
        raise PayloadTooLarge(
            f"At most {MAX_RECORDS} records per set; this one has {len(records)}."
        )
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
    guests = _check_records(session, study_session, records, old, at)
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
    summary = attendance_summary(new_marks)
    if not written and not dropped:
        return Written(False, summary)
    if dropped:
        dialect = conn.dialect.name
        conn.execute(
            sa.delete(table).where(
                table.c.session_id == study_session.id,
                bulk.among_ids_param(dialect, table.c.member_id, "member_ids"),
            ),
            {"member_ids": bulk.ids_value(dialect, sorted(dropped))},
        )
    bulk.insert_rows(session, table, written, finish=_replace_record, order_by=("member_id",))
    totals.apply_set(session, study_session, [*changed, *((m, old[m], None) for m in dropped)])
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
        before=attendance_summary(list(old.values())),
        after=summary,
    )
    return Written(True, summary)


def _replace_record(insert: Insert) -> Insert:
    """A record already in the set takes the new status, hours, credit and guest flag."""
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["session_id", "member_id"],
        set_={c: new[c] for c in ("status", "hours", "credited", "is_guest")},
    )
