from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.campaign.enums import ExemptionReason, Phase, Remedy, UnitState
from app.org.enums import MemberCategory
from app.schemas import Id, InputSchema, PatchSchema, ReadSchema

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _rounded(places: int) -> AfterValidator:
    # Rounded to what is stored, not refused: a JSON number is a float to most clients,
    # and 0.95 may arrive as 0.9500000000000001.
    step = Decimal(1).scaleb(-places)

    def rounded(value: Decimal) -> Decimal:
        finer = int(value.as_tuple().exponent) < -places
        return value.quantize(step, ROUND_HALF_UP) if finer else value

    return AfterValidator(rounded)


Hours = Annotated[
    Decimal, Field(ge=0, le=1000, description="Rounded to one decimal place."), _rounded(1)
]
Coverage = Annotated[
    Decimal, Field(ge=0, le=1, description="Rounded to three decimal places."), _rounded(3)
]
Reason = Annotated[str, StringConstraints(min_length=10, max_length=1000)]
UnitIds = Annotated[list[Id], Field(min_length=1, max_length=5000)]

DEFAULT_STUDY_HOURS = Decimal(40)
DEFAULT_COVERAGE = Decimal("0.95")


class CampaignCreate(InputSchema):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CampaignRead(ReadSchema):
    id: int
    name: str
    description: str | None
    created_at: datetime


class PhaseWindow(InputSchema):
    """A phase's window and requirements. Left out, min_hours is 40 for study and 0 for the
    later phases, and min_coverage is 0.95."""

    starts_on: date
    ends_on: date
    min_hours: Hours | None = None
    min_coverage: Coverage | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not precede starts_on")
        return self


class PhasePatch(PatchSchema):
    non_nullable = frozenset({"starts_on", "ends_on", "min_hours", "min_coverage"})

    starts_on: date | None = None
    ends_on: date | None = None
    min_hours: Hours | None = None
    min_coverage: Coverage | None = None


class BatchPhases(InputSchema):
    study: PhaseWindow
    evaluation: PhaseWindow
    rectification: PhaseWindow


class BatchCreate(InputSchema):
    number: Annotated[int, Field(ge=1, le=3, description="1, 2 or 3: 第一批, 第二批, 第三批.")]
    name: Name
    phases: BatchPhases


class BatchPhasesPatch(InputSchema):
    study: PhasePatch | None = None
    evaluation: PhasePatch | None = None
    rectification: PhasePatch | None = None


class BatchUpdate(InputSchema):
    name: Name | None = None
    phases: BatchPhasesPatch | None = None


class PhaseRead(ReadSchema):
    phase: Phase
    starts_on: date
    ends_on: date
    min_hours: float
    min_coverage: float


class BatchRead(ReadSchema):
    id: int
    campaign_id: int
    number: int
    name: str
    phases: list[PhaseRead]
    units: int = Field(description="Units enrolled in the batch.")


class UnitSelection(InputSchema):
    """Either unit ids, or a district: all of its units the caller reaches."""

    unit_ids: UnitIds | None = None
    district_id: Id | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.unit_ids is None) == (self.district_id is None):
            raise ValueError("give either unit_ids or district_id")
        return self


class EnrolmentResult(ReadSchema):
    unit_id: int
    status: Annotated[
        str, Field(description="enrolled, already_enrolled, in_other_batch or not_found")
    ]
    batch_id: int | None = None


class AdvanceRequest(InputSchema):
    to: UnitState | None = Field(
        default=None,
        description="The state the client expects to reach. Send it: a retried request "
        "then answers 409 instead of moving the unit a second step.",
    )
    override_reason: Reason | None = Field(
        default=None,
        description="District or city admins: advance although a gate refuses (the "
        "look-back of study, unverified rectification items before completion).",
    )
    extend_until: date | None = Field(
        default=None,
        description="If the look-back fails: the extension's last day, after the study "
        "window's end (default: 14 days past the window's end, or past today once the "
        "window has closed).",
    )


class BulkAdvanceRequest(UnitSelection):
    to: UnitState | None = None
    override_reason: Reason | None = None
    extend_until: date | None = Field(
        default=None, description="As for one unit: the refused units' extension's last day."
    )


class PhaseMoveRead(ReadSchema):
    from_state: UnitState
    to_state: UnitState
    at: datetime
    user_id: int | None
    username: str
    override_reason: str | None


class ProgressRead(ReadSchema):
    unit_id: int
    batch_id: int | None = Field(description="Null while the unit is in no batch.")
    state: UnitState | None
    entered_at: datetime | None
    due_on: date | None = Field(description="The current phase's last day.")
    extended_until: date | None
    overdue: bool
    history: list[PhaseMoveRead]


class ShortMember(ReadSchema):
    member_id: int
    name: str
    categories: list[MemberCategory]
    hours: float
    missing_hours: float
    remedy: Remedy


class BranchFindings(ReadSchema):
    branch_id: int
    code: str
    name: str
    members: int
    met: int
    short: list[ShortMember]


class ExemptMember(ReadSchema):
    member_id: int
    name: str
    branch_id: int
    reason: ExemptionReason
    note: str | None


class LookBackRead(ReadSchema):
    unit_id: int
    batch_id: int
    phase: Phase
    min_hours: float
    min_coverage: float
    members: int = Field(
        description="Active, not exempted members: the denominator. Like every figure here, "
        "counted over the branches the caller sees (a branch secretary: their own branch; "
        "the gate counts the whole unit)."
    )
    met: int
    coverage: float
    ok: bool = Field(description="coverage reaches min_coverage (over the branches seen).")
    branches: list[BranchFindings] = Field(description="Branches with members short of hours.")
    exempted: list[ExemptMember]


class AdvanceResult(ReadSchema):
    unit_id: int
    status: Annotated[str, Field(description="advanced, refused or not_in_batch")]
    from_state: UnitState | None = None
    to_state: UnitState | None = None
    detail: str | None = None


class ExemptionWrite(InputSchema):
    reason: ExemptionReason
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class ExemptionRead(ReadSchema):
    member_id: int
    batch_id: int
    phase: Phase
    reason: ExemptionReason
    note: str | None
    created_at: datetime
