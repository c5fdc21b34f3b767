from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import BigIntKey, UTCDateTime
from app.org.models import Timestamped

TEXT_LENGTH = 2000


class RectificationItem(Timestamped, table=True):
    """A problem found (整改事项), its measures, owner, deadline and status.

    ``source_ref`` says which record the problem came from, in the source's own words
    (``evaluation:12``, ``inspection:3/finding:7``, a letter number): the sources live in
    tables of other domains, some newer than this one, so it is a reference, not a key.
    """

    __tablename__ = "rectification_item"
    __table_args__ = (
        sa.Index("ix_rectification_item_unit_id_status", "unit_id", "status"),
        sa.Index("ix_rectification_item_source_source_ref", "source", "source_ref"),
    )

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    # An evaluation opens an item for one member.
    member_id: int | None = Field(
        default=None, sa_type=BigIntKey, foreign_key="member.id", index=True
    )
    source: str = Field(max_length=20)
    source_ref: str | None = Field(default=None, max_length=100)
    # The unit's phase when the item was opened (null: the unit was in no batch yet).
    phase: str | None = Field(default=None, max_length=20)
    problem: str = Field(max_length=TEXT_LENGTH)
    measures: str = Field(max_length=TEXT_LENGTH)
    owner: str = Field(max_length=100)
    deadline: date
    status: str = Field(default="open", max_length=20)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class RectificationStep(SQLModel, table=True):
    """One move of an item with its evidence note; never rewritten. The first step of an
    item (``from_status`` null) is its opening."""

    __tablename__ = "rectification_step"

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    item_id: int = Field(sa_type=BigIntKey, foreign_key="rectification_item.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=TEXT_LENGTH)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    username: str = Field(max_length=50)
