"""An attendance set's write on PostgreSQL, as one statement.

The set is compared with the stored one, and the records that differ are written and
their members' totals moved, inside the database: the comparison of a few hundred records
costs PostgreSQL little, and Python, fetching the stored set and comparing it record by
record, several milliseconds of a worker's time on every secretary's PUT. SQLite runs the
same rules in Python (app/study/attendance.py), where fetching costs nothing of the kind;
both are held to the same tests, the property test of the totals included.

The statement's parts are data-modifying CTEs: all of them see the set as stored before
the statement, which is what the comparison needs. The session's row is locked by the
caller, so no other write of its set runs meanwhile.
"""

from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app import bulk
from app.study import totals
from app.study.enums import AttendanceStatus
from app.study.models import Attendance, MemberStudyTotal, SetSession

# A record's columns, as the statement's rows parameter carries them.
RECORD = ("member_id", "status", "hours", "credited", "is_guest")
STATUSES = tuple(s.value for s in AttendanceStatus)


def replace_record(insert: Insert) -> Insert:
    """A record already in the set takes the new status, hours, credit and guest flag."""
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["session_id", "member_id"],
        set_={c: new[c] for c in ("status", "hours", "credited", "is_guest")},
    )


class SetWritten(NamedTuple):
    changed: int  # records written or deleted
    before: dict[str, Any]  # the stored set's counts per status and credited hours
    after: dict[str, Any]  # the new set's


def write_set(
    session: Session, study_session: SetSession, rows: list[dict[str, Any]]
) -> SetWritten:
    """Replaces the session's set with ``rows`` (dicts of RECORD, checked by the caller)
    and moves the totals of the members whose records changed; then looks up again the
    last attended date of those who lost an earning record here (app/study/totals.py)."""
    conn = bulk.connection(session)
    found = conn.execute(
        _statement(),
        {
            "rows": to_json(rows).decode(),
            "session_id": study_session.id,
            "batch_id": study_session.batch_id,
            "phase": study_session.phase,
            "held_on": study_session.held_on,
        },
    ).one()
    if found.lost:
        lost_on = (study_session.batch_id, study_session.phase, study_session.held_on)
        totals.look_up_lost_dates(session, {lost_on: list(found.lost)})
    return SetWritten(found.changed, _counts(found, "before"), _counts(found, "after"))


def _counts(found: sa.Row, prefix: str) -> dict[str, Any]:
    return {
        **{s: getattr(found, f"{prefix}_{s}") for s in STATUSES},
        "credited_hours": totals.as_stored(getattr(found, f"{prefix}_hours")),
    }


def _summary(records: sa.CTE, prefix: str) -> list[sa.ColumnElement[Any]]:
    """Counts per status and the credited hours of a set, as one row's columns."""
    return [
        *(sa.func.count().filter(records.c.status == s).label(f"{prefix}_{s}") for s in STATUSES),
        sa.func.coalesce(sa.func.sum(records.c.credited), Decimal(0)).label(f"{prefix}_hours"),
    ]


@cache
def _statement() -> sa.Select:
    a = Attendance.__table__
    session_id = sa.bindparam("session_id", type_=a.c.session_id.type)
    # Our own status codes, written into the SQL: an expanding IN would be spliced into the
    # cached statement's text again on every call.
    earning = [sa.literal_column(f"'{s}'") for s in totals.EARNING]
    sent = (
        sa.func.json_to_recordset(sa.cast(sa.bindparam("rows", type_=sa.Text), postgresql.JSON))
        .table_valued(*(sa.column(n, a.c[n].type) for n in RECORD))
        .render_derived(name="v", with_types=True)
    )
    new = sa.select(*(sent.c[n] for n in RECORD)).cte("new")
    old = sa.select(*(a.c[n] for n in RECORD)).where(a.c.session_id == session_id).cte("old")

    # Every member whose record differs, with their old and new record (either may be
    # missing: a member added to the set, or dropped from it).
    was = sa.func.coalesce(old.c.status.in_(earning), False)
    now = sa.func.coalesce(new.c.status.in_(earning), False)
    diff = (
        sa.select(
            sa.func.coalesce(new.c.member_id, old.c.member_id).label("member_id"),
            *(new.c[n] for n in RECORD[1:]),
            (new.c.member_id.is_(None)).label("dropped"),
            (sa.func.coalesce(new.c.credited, 0) - sa.func.coalesce(old.c.credited, 0)).label(
                "d_hours"
            ),
            was.label("was"),
            now.label("now"),
        )
        .select_from(new.join(old, old.c.member_id == new.c.member_id, full=True))
        .where(sa.or_(*(new.c[n].is_distinct_from(old.c[n]) for n in RECORD)))
        .cte("diff")
    )

    written = replace_record(
        postgresql.insert(a).from_select(
            ["session_id", *RECORD],
            sa.select(session_id, *(diff.c[n] for n in RECORD))
            .where(sa.not_(diff.c.dropped))
            .order_by(diff.c.member_id),
        )
    ).cte("written")
    removed = (
        sa.delete(a)
        .where(
            a.c.session_id == session_id,
            a.c.member_id.in_(sa.select(diff.c.member_id).where(diff.c.dropped)),
        )
        .cte("removed")
    )

    # The totals move as totals.apply_set moves them: by the differences, for members whose
    # hours or earning changed; one who lost an earning record is locked here even with
    # nothing to add, before their last date is looked up again.
    t = MemberStudyTotal.__table__
    moved = totals.add_differences(
        postgresql.insert(t).from_select(
            ["member_id", "batch_id", "phase", "hours", "sessions", "last_attended_on"],
            sa.select(
                diff.c.member_id,
                sa.bindparam("batch_id", type_=t.c.batch_id.type),
                sa.bindparam("phase", type_=t.c.phase.type),
                diff.c.d_hours,
                sa.cast(diff.c.now, sa.Integer) - sa.cast(diff.c.was, sa.Integer),
                sa.case((diff.c.now, sa.bindparam("held_on", type_=sa.Date)), else_=sa.null()),
            )
            .where(sa.or_(diff.c.was != diff.c.now, diff.c.d_hours != 0))
            .order_by(diff.c.member_id),
        )
    ).cte("moved")

    changed = sa.select(sa.func.count()).select_from(diff).scalar_subquery()
    lost = (
        sa.select(sa.func.array_agg(diff.c.member_id))
        .where(diff.c.was, sa.not_(diff.c.now))
        .scalar_subquery()
    )
    before = sa.select(*_summary(old, "before")).subquery("before")
    after = sa.select(*_summary(new, "after")).subquery("after")
    return (
        sa.select(changed.label("changed"), lost.label("lost"), before, after)
        .select_from(before.join(after, sa.true()))
        .add_cte(written, removed, moved)
    )
