"""Reading the demo's rows back: the tables, counts, a digest of every row, emptying the
database between seeds, and the study phase's figures the tests compare with."""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.demo.shares import AS_OF, DISTRICTS
from app.models import metadata

DISTRICT, UNIT, BRANCH, MEMBER = (
    metadata.tables[n] for n in ("district", "unit", "branch", "member")
)
SESSION, ATTENDANCE, TOTAL, BRANCH_TOTAL = (
    metadata.tables[n]
    for n in ("study_session", "attendance", "member_study_total", "branch_session_total")
)
AS_OF_T = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
AREA_BY_DISTRICT_ID = {i + 1: area for i, (_, _, area, _) in enumerate(DISTRICTS)}


def counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (DISTRICT, UNIT, BRANCH, MEMBER)
        )


def orphans(engine: Engine) -> tuple[int, int]:
    """Units without a branch, branches without a member."""
    with engine.connect() as conn:
        bare_units = conn.scalar(
            sa.select(sa.func.count())
            .select_from(UNIT)
            .where(~sa.exists().where(BRANCH.c.unit_id == UNIT.c.id))
        )
        bare_branches = conn.scalar(
            sa.select(sa.func.count())
            .select_from(BRANCH)
            .where(~sa.exists().where(MEMBER.c.branch_id == BRANCH.c.id))
        )
    return bare_units, bare_branches


STAMPS_AND_BATCH = ("created_at", "updated_at", "batch_id")


def digest(engine: Engine) -> str:
    """Everything the seed decides; not the timestamps, nor members' database-given ids."""
    h = hashlib.sha256()
    member_columns = [c for c in MEMBER.c if c.name not in ("id", "created_at", "updated_at")]
    with engine.connect() as conn:
        for query in (
            sa.select(DISTRICT.c.id, DISTRICT.c.code, DISTRICT.c.name).order_by(DISTRICT.c.id),
            sa.select(
                UNIT.c.id, UNIT.c.code, UNIT.c.name, UNIT.c.district_id, UNIT.c.kind
            ).order_by(UNIT.c.id),
            sa.select(BRANCH.c.id, BRANCH.c.code, BRANCH.c.name, BRANCH.c.unit_id)
            .add_columns(BRANCH.c.secretary_name)
            .order_by(BRANCH.c.id),
            sa.select(*member_columns).order_by(MEMBER.c.id),
            # Study rows name members by ID number: member and batch ids are the database's.
            sa.select(*(c for c in SESSION.c if c.name not in STAMPS_AND_BATCH)).order_by(
                SESSION.c.id
            ),
            sa.select(ATTENDANCE.c.session_id, MEMBER.c.id_number)
            .add_columns(*(c for c in ATTENDANCE.c if c.name not in ("session_id", "member_id")))
            .join(MEMBER, MEMBER.c.id == ATTENDANCE.c.member_id)
            .order_by(ATTENDANCE.c.session_id, MEMBER.c.id_number),
            sa.select(MEMBER.c.id_number)
            .add_columns(*(c for c in TOTAL.c if c.name not in ("member_id", "batch_id")))
            .join(MEMBER, MEMBER.c.id == TOTAL.c.member_id)
            .order_by(MEMBER.c.id_number),
        ):
            for row in conn.execute(query):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


# The study phase (issue 7, item 6). Scale 0.05 with seed 7: 73 units, 118 branches,
# 1,779 members, about 1,500 sessions and 21,000 attendance records.
CATEGORIES = ("migrant", "outgoing", "retired", "infirm")
EARNING = ("present", "late")


def study_counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (SESSION, ATTENDANCE, TOTAL)
        )


def study_phase(engine: Engine):
    from app.campaign.models import BatchPhase

    with Session(engine, expire_on_commit=False) as s:
        study = s.scalar(sa.select(BatchPhase).where(BatchPhase.phase == "study"))
        s.expunge_all()
        return study


def look_back_mix(engine: Engine) -> list[bool]:
    """Per unit, whether the look-back would pass: the look-back's rule in one query
    (active members, a missing total is 0 hours; the demo exempts no one)."""
    study = study_phase(engine)
    total = TOTAL.alias()
    with engine.connect() as conn:
        met = dict.fromkeys(conn.scalars(sa.select(UNIT.c.id)), (0, 0))
        rows = conn.execute(
            sa.select(
                BRANCH.c.unit_id,
                sa.func.count(),
                sa.func.sum(sa.case((sa.func.coalesce(total.c.hours, 0) >= study.min_hours, 1))),
            )
            .select_from(MEMBER)
            .join(BRANCH, BRANCH.c.id == MEMBER.c.branch_id)
            .outerjoin(
                total,
                sa.and_(
                    total.c.member_id == MEMBER.c.id,
                    total.c.batch_id == study.batch_id,
                    total.c.phase == "study",
                ),
            )
            .where(MEMBER.c.status == "active")
            .group_by(BRANCH.c.unit_id)
        ).all()
    met.update((unit, (n, ok or 0)) for unit, n, ok in rows)
    return [n == 0 or Decimal(ok) / n >= study.min_coverage for n, ok in met.values()]
