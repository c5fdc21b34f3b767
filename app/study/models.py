import uuid
from datetime import date
from decimal import Decimal
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntKey
from app.org.models import Timestamped


class StudySession(Timestamped, table=True):
    """A study session a branch held. The id may be made by the client (offline phones), so
    that creating the same session twice is naturally one session."""

    __tablename__ = "study_session"
    __table_args__ = (
        sa.Index("ix_study_session_branch_id_held_on", "branch_id", "held_on"),
        sa.Index("ix_study_session_unit_id_batch_id_phase", "unit_id", "batch_id", "phase"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    # The branch's unit and batch when the session was recorded, so that reports and scope
    # filters need no join through the tree.
    unit_id: int = Field(foreign_key="unit.id")
    batch_id: int = Field(foreign_key="batch.id")
    phase: str = Field(max_length=20)
    held_on: date
    format: str = Field(max_length=30)
    hours: Decimal = Field(sa_type=sa.Numeric(4, 1))
    topic: str = Field(max_length=200)
    lecturer: str | None = Field(default=None, max_length=100)
    lecturer_is_leading_cadre: bool = Field(default=False)
    location: str | None = Field(default=None, max_length=200)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class SetSession(Protocol):
    """What an attendance set's write needs of its session: a StudySession, or the row the
    PUT's locking read answers (app/study/repository.py)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def branch_id(self) -> int: ...
    @property
    def batch_id(self) -> int: ...
    @property
    def phase(self) -> str: ...
    @property
    def held_on(self) -> date: ...
    @property
    def hours(self) -> Decimal: ...


class Attendance(SQLModel, table=True):
    """One member's attendance at one session. ``credited`` is the hours it earns, kept so
    that the running totals can be adjusted by differences and checked against the rows."""

    __table_args__ = (sa.Index("ix_attendance_member_id", "member_id"),)

    session_id: uuid.UUID = Field(foreign_key="study_session.id", primary_key=True)
    member_id: int = Field(sa_type=BigIntKey, foreign_key="member.id", primary_key=True)
    status: str = Field(max_length=10)
    # Hours given for this record (fewer than the session's, e.g. left early); null: all.
    hours: Decimal | None = Field(default=None, sa_type=sa.Numeric(4, 1))
    credited: Decimal = Field(sa_type=sa.Numeric(4, 1))
    # A migrant or outgoing member of another branch, credited in their own branch.
    is_guest: bool = Field(default=False)


class MemberStudyTotal(SQLModel, table=True):
    """A member's running totals in one phase of one batch.

    The attendance write keeps this row up to date in its own transaction, so that the
    look-back and the reports cost what the number of members costs, not the number of
    attendance records. ``campaign verify-totals`` recomputes it from the attendance rows.
    """

    __tablename__ = "member_study_total"
    __table_args__ = (sa.Index("ix_member_study_total_batch_id_phase", "batch_id", "phase"),)

    member_id: int = Field(sa_type=BigIntKey, foreign_key="member.id", primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    phase: str = Field(max_length=20, primary_key=True)
    hours: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(7, 1))
    sessions: int = Field(default=0)
    last_attended_on: date | None = None


class BranchSessionTotal(SQLModel, table=True):
    """The sessions a branch held in one phase of one batch: how many, how many in each
    format, how many were leading cadres' lectures, and the last day one was held.

    Every session's create, edit and delete moves it in its own transaction
    (app/study/branch_totals.py), so that the reports' session figures and the weak-branch
    rule cost what the number of branches costs, not the number of sessions. ``campaign
    verify-totals`` recomputes it from study_session. A branch that held no session in a
    phase has no row.
    """

    __tablename__ = "branch_session_total"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    phase: str = Field(max_length=20, primary_key=True)
    sessions: int = Field(default=0)
    leader_lectures: int = Field(default=0)
    last_held_on: date | None = None
    # One count per session format (SessionFormat), named "<format>_sessions".
    collective_study_sessions: int = Field(default=0)
    party_lecture_sessions: int = Field(default=0)
    tutorial_report_sessions: int = Field(default=0)
    seminar_sessions: int = Field(default=0)
    distance_learning_sessions: int = Field(default=0)
    home_delivery_sessions: int = Field(default=0)
    self_study_sessions: int = Field(default=0)
    make_up_sessions: int = Field(default=0)
