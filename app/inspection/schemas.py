from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.inspection.enums import Assessment, Severity
from app.rectification.models import TEXT_LENGTH
from app.rectification.schemas import Owner, Text
from app.schemas import Id, InputSchema, ReadSchema

PersonName = Annotated[str, StringConstraints(min_length=1, max_length=50)]
MAX_FINDINGS = 100


class OpenRectification(InputSchema):
    """Open a rectification item for this finding in the same call."""

    problem: Text | None = Field(default=None, description="Default: the finding's text.")
    measures: Text
    owner: Owner
    deadline: date


class FindingCreate(InputSchema):
    text: Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH)]
    severity: Severity
    open_rectification: OpenRectification | None = None


class InspectionCreate(InputSchema):
    unit_id: Id
    inspected_on: date = Field(description="The day of the visit; not in the future.")
    team: Annotated[list[PersonName], Field(min_length=1, max_length=20)] = Field(
        description="The supervision team's members, by name (督导组成员)."
    )
    assessment: Assessment
    summary: Text | None = None
    findings: Annotated[list[FindingCreate], Field(max_length=MAX_FINDINGS)] = Field(
        default_factory=list
    )


class FindingRead(ReadSchema):
    id: int
    position: int
    text: str
    severity: Severity
    rectification_id: int | None


class InspectionRead(ReadSchema):
    id: int
    unit_id: int
    inspected_on: date
    team: list[str]
    assessment: Assessment
    summary: str | None
    created_by: int | None
    created_at: datetime


class InspectionDetail(InspectionRead):
    findings: list[FindingRead]
