from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import BigIntKey, UTCDateTime
from app.org.models import Timestamped


class Campaign(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class Batch(Timestamped, table=True):
    """One of the campaign's batches (第一批 …); every unit takes part in one."""

    __table_args__ = (sa.UniqueConstraint("campaign_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    number: int
    name: str = Field(max_length=200)


class BatchPhase(SQLModel, table=True):
    """A phase of a batch: its window and its requirements, data the department can edit."""

    __tablename__ = "batch_phase"

    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    phase: str = Field(max_length=20, primary_key=True)
    starts_on: date
    ends_on: date
    # Study hours (学时) each member must earn in the phase; 0 where the phase asks none.
    min_hours: Decimal = Field(sa_type=sa.Numeric(6, 1))
    # Share of members who must meet min_hours for the unit to pass the look-back.
    min_coverage: Decimal = Field(sa_type=sa.Numeric(4, 3))


class UnitProgress(SQLModel, table=True):
    """A unit's enrolment and its place in the phases. One row per unit, so a unit is in one
    batch at most; ``version`` lets concurrent advances of one unit find that one won."""

    __tablename__ = "unit_progress"

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    state: str = Field(default="not_started", max_length=20, index=True)
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # The current phase's extension (make-up study after a failed look-back), if any.
    extended_until: date | None = None
    version: int = Field(default=0)


class PhaseMove(SQLModel, table=True):
    """One step of a unit from a state to the next; never rewritten."""

    __tablename__ = "phase_move"

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    batch_id: int = Field(foreign_key="batch.id")
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    username: str = Field(max_length=50)
    override_reason: str | None = Field(default=None, max_length=1000)


class MemberExemption(SQLModel, table=True):
    """A member left out of a phase's look-back (in hospital, abroad …), with the reason."""

    __tablename__ = "member_exemption"

    member_id: int = Field(sa_type=BigIntKey, foreign_key="member.id", primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    phase: str = Field(max_length=20, primary_key=True)
    reason: str = Field(max_length=30)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
