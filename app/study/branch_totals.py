"""The sessions' running totals per branch, batch and phase (branch_session_total): kept by
differences in the same transaction as every session's create, edit and delete, and
recomputed from study_session to check them (``campaign verify-totals``).

As with the members' totals (app/study/totals.py), adding differences commutes, so two
secretaries recording sessions of one branch at once both count. Only the last day held
cannot be kept by a difference when a session goes: it is then looked up again, after the
upsert has locked the row.
"""

from datetime import date
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app import bulk
from app.study.enums import SessionFormat
from app.study.models import BranchSessionTotal, StudySession
from app.study.totals import Difference, compared, later_date

KEY = ("branch_id", "batch_id", "phase")
Key = tuple[int, int, str]  # branch_id, batch_id, phase
# The counts kept by differences.
COUNTS = (
    "sessions",
    "leader_lectures",
    *(f"{fmt.value}_sessions" for fmt in SessionFormat),
)
# Every column but the key, in the order of ``recomputed()``'s columns after the key.
FIGURES = (*COUNTS, "last_held_on")


class Held(NamedTuple):
    """A session, as far as its branch's totals care."""

    branch_id: int
    batch_id: int
    phase: str
    format: str
    leader_lecture: bool
    held_on: date

    @property
    def key(self) -> Key:
        return self.branch_id, self.batch_id, self.phase


def held(study_session: StudySession) -> Held:
    s = study_session
    return Held(
        s.branch_id,
        s.batch_id,
        str(s.phase),
        str(s.format),
        bool(s.lecturer_is_leading_cadre),
        s.held_on,
    )


def move(session: Session, before: Held | None, after: Held | None) -> None:
    """Moves the totals from a session as it was (None: it did not exist) to as it is now
    (None: deleted). Run after the session's row has been written, so that a last day held
    that has gone is looked up without it."""
    if before == after:
        return
    rows: dict[Key, dict[str, Any]] = {}
    for h, step in ((before, -1), (after, 1)):
        if h is None:
            continue
        row = rows.setdefault(h.key, {**dict(zip(KEY, h.key, strict=True)), **_NOTHING})
        row["sessions"] += step
        row["leader_lectures"] += step * h.leader_lecture
        row[f"{h.format}_sessions"] += step
        if step > 0:
            row["last_held_on"] = h.held_on
    ordered = [rows[k] for k in sorted(rows)]  # one order: no deadlocks between writers
    bulk.insert_rows(
        session, BranchSessionTotal.__table__, ordered, finish=_add_differences, order_by=KEY
    )
    if before is None or (
        after is not None and after.key == before.key and after.held_on >= before.held_on
    ):
        return  # nothing lost: the upsert's "the later day wins" is right
    conn = bulk.connection(session)
    at = {f"of_{name}": value for name, value in zip(KEY, before.key, strict=True)}
    conn.execute(_emptied(), at)
    conn.execute(_last_held(), {**at, "lost_on": before.held_on})


_NOTHING: dict[str, Any] = {**dict.fromkeys(COUNTS, 0), "last_held_on": None}


def _of_key(t: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(*(t.c[name] == sa.bindparam(f"of_{name}") for name in KEY))


def _add_differences(insert: Insert) -> Insert:
    """Adds the row to the key's totals, or starts them with it; the later day held wins."""
    t, new = BranchSessionTotal.__table__.c, insert.excluded
    return insert.on_conflict_do_update(
        index_elements=list(KEY),
        set_={
            **{name: t[name] + new[name] for name in COUNTS},
            "last_held_on": later_date(t.last_held_on, new.last_held_on),
        },
    )


@cache
def _last_held() -> sa.Update:
    """The key's last day held, from its sessions, where the lost session's day could have
    been it. The upsert has locked the row, so this statement sees every writer that
    committed before us (READ COMMITTED takes a snapshot per statement)."""
    t = BranchSessionTotal.__table__
    s = StudySession.__table__
    last = (
        sa.select(sa.func.max(s.c.held_on))
        .where(*(s.c[name] == t.c[name] for name in KEY))
        .scalar_subquery()
    )
    return (
        sa.update(t)
        .where(_of_key(t))
        .where(sa.or_(t.c.last_held_on.is_(None), t.c.last_held_on <= sa.bindparam("lost_on")))
        .values(last_held_on=last)
    )


@cache
def _emptied() -> sa.Delete:
    """A key whose last session went has no row (as the recomputation has none)."""
    t = BranchSessionTotal.__table__
    return sa.delete(t).where(_of_key(t), *(t.c[name] == 0 for name in COUNTS))


def recomputed() -> sa.Select:
    """The totals as study_session says they are, one row per branch, batch and phase: the
    columns of KEY, then those of FIGURES."""
    s = StudySession
    return sa.select(
        s.branch_id,
        s.batch_id,
        s.phase,
        sa.func.count().label("sessions"),
        sa.func.count().filter(s.lecturer_is_leading_cadre.is_(True)).label("leader_lectures"),
        *(
            sa.func.count().filter(s.format == fmt.value).label(f"{fmt.value}_sessions")
            for fmt in SessionFormat
        ),
        sa.func.max(s.held_on).label("last_held_on"),
    ).group_by(s.branch_id, s.batch_id, s.phase)


def differences(session: Session) -> list[Difference]:
    """Every total that disagrees with the sessions (an absent row counts as none held)."""

    def figures(rows: Any) -> dict[Key, tuple]:
        return {
            (r.branch_id, r.batch_id, r.phase): tuple(getattr(r, name) for name in FIGURES)
            for r in rows
        }

    return compared(
        figures(session.scalars(sa.select(BranchSessionTotal))),
        figures(session.execute(recomputed())),
    )


def repair(session: Session, found: list[Difference]) -> None:
    for d in found:
        total = session.get(BranchSessionTotal, d.key)
        if d.expected is None:
            session.delete(total)
            continue
        total = total or BranchSessionTotal(**dict(zip(KEY, d.key, strict=True)))
        for name, value in zip(FIGURES, d.expected, strict=True):
            setattr(total, name, value)
        session.add(total)
    session.flush()
