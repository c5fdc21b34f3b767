from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.campaign.enums import UnitState
from app.evaluation.enums import Measure, Rating
from app.evaluation.models import COMMENT_LENGTH
from app.schemas import Id, InputSchema, ReadSchema

MAX_RECORDS = 1000

Comment = Annotated[str, StringConstraints(min_length=1, max_length=COMMENT_LENGTH)]


class EvaluationRecord(InputSchema):
    member_id: Id
    rating: Rating
    comment: Comment | None = None
    measure: Measure | None = Field(
        default=None,
        description="Required for basically_qualified and unqualified, refused otherwise; "
        "persuade_to_withdraw and removal only for unqualified.",
    )


class EvaluationSet(InputSchema):
    """The branch's evaluations in the batch, whole: members left out lose theirs."""

    batch_id: Id
    # The count is checked by the service (413 past it); the 1 MB body limit bounds parsing.
    records: Annotated[list[EvaluationRecord], Field(description=f"At most {MAX_RECORDS} records.")]


class RatingCounts(ReadSchema):
    excellent: int = 0
    qualified: int = 0
    basically_qualified: int = 0
    unqualified: int = 0


class EvaluationsWritten(RatingCounts):
    branch_id: int
    batch_id: int
    changed: bool = Field(description="False when the set was already recorded as sent.")
    records: int
    rectifications_opened: list[int] = Field(
        description="Ids of the rectification items this write opened (整改事项)."
    )


class EvaluationRead(ReadSchema):
    member_id: int
    name: str
    rating: Rating
    measure: Measure | None
    comment: str | None
    evaluated_at: datetime
    rectification_id: int | None = Field(
        description="The rectification item opened for the member's rating, if any."
    )


class PendingMember(ReadSchema):
    member_id: int
    name: str
    exempted: bool = Field(description="Exempted from the evaluation phase: not required.")


class BranchEvaluations(RatingCounts):
    branch_id: int
    batch_id: int
    unit_state: UnitState
    members: int = Field(description="Active members of the branch now.")
    evaluated: int
    records: list[EvaluationRead]
    not_evaluated: list[PendingMember]
