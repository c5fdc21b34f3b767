from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import BigIntKey, UTCDateTime

COMMENT_LENGTH = 500


class Evaluation(SQLModel, table=True):
    """A member's democratic evaluation in a batch: one per member and batch, written as
    part of their branch's set. Reports place it by the member's branch as it is now."""

    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    member_id: int = Field(sa_type=BigIntKey, foreign_key="member.id", primary_key=True)
    rating: str = Field(max_length=30)
    measure: str | None = Field(default=None, max_length=30)
    comment: str | None = Field(default=None, max_length=COMMENT_LENGTH)
    # When the record last changed, and by whom.
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    evaluated_by: int | None = Field(default=None, foreign_key="app_user.id")
