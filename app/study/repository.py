"""Queries of sessions, filtered by the caller's scope through the session's branch."""

import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.models import Branch, Unit
from app.org.scope import branch_condition
from app.study.models import Attendance, StudySession


@dataclass(frozen=True)
class SessionFilter:
    branch_id: int | None = None
    unit_id: int | None = None
    district_id: int | None = None
    phase: str | None = None
    held_from: date | None = None
    held_to: date | None = None


class SessionRepository:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def base(self) -> sa.Select[tuple[StudySession]]:
        visible = sa.select(Branch.id).where(branch_condition(self.principal))
        return sa.select(StudySession).where(StudySession.branch_id.in_(visible))

    def get(self, id: uuid.UUID, *, for_update: bool = False) -> StudySession | None:
        """``for_update``: writers of one session take turns (PostgreSQL row lock), so that
        each reads the set the previous one left and the totals move once per change."""
        stmt = self.base().where(StudySession.id == id)
        if for_update:
            # Read again once locked: a copy loaded earlier in this transaction may be one
            # that a writer who held the lock has changed since.
            stmt = stmt.with_for_update(of=StudySession).execution_options(populate_existing=True)
        return self.session.scalar(stmt)

    def locked_for_attendance(self, id: uuid.UUID) -> sa.Row | None:
        """What an attendance write needs of the session (a SetSession) and the district its
        branch lies in now (for the audit row), the session locked for writing as
        ``get(for_update=True)`` locks it: one Core statement for the write path every
        secretary's phone takes (loading the ORM object cost more than the statement)."""
        s = StudySession.__table__.c
        stmt = (
            sa.select(s.id, s.branch_id, s.batch_id, s.phase, s.held_on, s.hours, Unit.district_id)
            .join(Branch, Branch.id == s.branch_id)
            .join(Unit, Unit.id == Branch.unit_id)
            .where(s.id == id, branch_condition(self.principal))
            .with_for_update(of=StudySession.__table__)
        )
        return self.session.connection().execute(stmt).first()

    def search(self, f: SessionFilter) -> sa.Select[tuple[StudySession]]:
        stmt = self.base()
        for column, value in (
            (StudySession.branch_id, f.branch_id),
            (StudySession.unit_id, f.unit_id),
            (StudySession.phase, f.phase),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if f.district_id is not None:
            units = sa.select(Unit.id).where(Unit.district_id == f.district_id)
            stmt = stmt.where(StudySession.unit_id.in_(units))
        if f.held_from is not None:
            stmt = stmt.where(StudySession.held_on >= f.held_from)
        if f.held_to is not None:
            stmt = stmt.where(StudySession.held_on <= f.held_to)
        return stmt.order_by(StudySession.held_on.desc(), StudySession.id)

    def attendance(self, session_id: uuid.UUID) -> list[Attendance]:
        stmt = (
            sa.select(Attendance)
            .where(Attendance.session_id == session_id)
            .order_by(Attendance.member_id)
        )
        return list(self.session.scalars(stmt))
