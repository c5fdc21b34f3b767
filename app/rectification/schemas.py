from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.campaign.enums import UnitState
from app.rectification.enums import RectificationSource, RectificationStatus
from app.rectification.models import TEXT_LENGTH
from app.schemas import Id, InputSchema, PatchSchema, ReadSchema

Text = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH)]
Owner = Annotated[str, StringConstraints(min_length=1, max_length=100)]
SourceRef = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ItemFields(InputSchema):
    problem: Text
    measures: Text = Field(description="What the unit will do (整改措施).")
    owner: Owner = Field(description="Who answers for it (责任人), a name or a post.")
    deadline: date = Field(description="整改时限; not before the day the item is opened.")


class RectificationCreate(ItemFields):
    unit_id: Id
    branch_id: Id | None = None
    member_id: Id | None = Field(
        default=None, description="A member the item is about (e.g. from an evaluation)."
    )
    source: RectificationSource
    source_ref: SourceRef | None = Field(
        default=None,
        description="Which record of the source: e.g. `inspection:3/finding:7`, a letter's "
        "number for public feedback. `evaluation:…` is reserved for the items evaluations "
        "open.",
    )


class RectificationUpdate(PatchSchema):
    non_nullable = frozenset({"problem", "measures", "owner", "deadline"})

    branch_id: Id | None = None
    problem: Text | None = None
    measures: Text | None = None
    owner: Owner | None = None
    deadline: date | None = None


class TransitionRequest(InputSchema):
    to: RectificationStatus = Field(
        description="The next status: open → in_progress → done → verified; a verifier may "
        "send a done item back to in_progress."
    )
    note: Text = Field(description="The evidence for this step (what was done, checked).")


class RectificationRead(ReadSchema):
    id: int
    unit_id: int
    branch_id: int | None
    member_id: int | None
    source: RectificationSource
    source_ref: str | None
    phase: UnitState | None = Field(
        description="The unit's state when the item was opened (null: in no batch yet)."
    )
    problem: str
    measures: str
    owner: str
    deadline: date
    status: RectificationStatus
    overdue: bool = Field(description="Past the deadline and still open or in progress.")
    created_at: datetime
    updated_at: datetime


class StepRead(ReadSchema):
    from_status: RectificationStatus | None
    to_status: RectificationStatus
    note: str | None
    at: datetime
    user_id: int | None
    username: str


class RectificationDetail(RectificationRead):
    steps: list[StepRead]
