from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, StringConstraints

from app.auth.principal import Principal
from app.clock import today
from app.org.enums import Gender, MemberCategory, MemberStatus, UnitKind
from app.org.models import CODE_LENGTH, NAME_LENGTH, Member
from app.org.validators import is_valid_id_number, is_valid_mobile
from app.privacy import mask_id_number, mask_phone
from app.schemas import Id, InputSchema, PatchSchema, ReadSchema

Code = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CODE_LENGTH, pattern=r"^[A-Za-z0-9._-]+$"),
    Field(description="Unique among objects of its kind; letters, digits, '.', '_' and '-'."),
]


def _one_line(value: str) -> str:
    # As the member import reads a name: no tab or line break inside it either.
    if any(ch in value for ch in "\t\n\r"):
        raise ValueError("must be one line, without tabs")
    return value


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=NAME_LENGTH), AfterValidator(_one_line)
]
PersonName = Annotated[
    str, StringConstraints(min_length=1, max_length=50), AfterValidator(_one_line)
]


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > today():
        raise ValueError("must not be in the future")
    return value


def _id_number(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.upper()
    if not is_valid_id_number(value):
        raise ValueError("must be an 18-character resident ID number with a valid check digit")
    return value


def _mobile(value: str | None) -> str | None:
    if value is not None and not is_valid_mobile(value):
        raise ValueError("must be an 11-digit mainland mobile number")
    return value


PastDate = Annotated[date, AfterValidator(_not_in_future)]
IdNumber = Annotated[
    str,
    AfterValidator(_id_number),
    Field(
        description="18-character resident ID number (GB 11643). Shown masked to non-city admins."
    ),
]
Mobile = Annotated[
    str,
    AfterValidator(_mobile),
    Field(description="11-digit mainland mobile number. Shown masked to non-city admins."),
]
Categories = Annotated[
    list[MemberCategory],
    Field(description="Any of migrant, outgoing, retired, infirm; a member may be in several."),
]


# Districts ----------------------------------------------------------------------------------


class DistrictCreate(InputSchema):
    code: Code
    name: Name


class DistrictUpdate(PatchSchema):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"code", "name"})
    code: Code | None = None
    name: Name | None = None


class DistrictRead(ReadSchema):
    id: int
    code: str
    name: str
    created_at: datetime
    updated_at: datetime


# Units --------------------------------------------------------------------------------------


class UnitCreate(InputSchema):
    code: Code
    name: Name
    district_id: Id
    kind: UnitKind


class UnitUpdate(PatchSchema):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"code", "name", "district_id", "kind"})
    code: Code | None = None
    name: Name | None = None
    district_id: Id | None = None
    kind: UnitKind | None = None


class UnitRead(ReadSchema):
    id: int
    code: str
    name: str
    district_id: Id
    kind: UnitKind
    created_at: datetime
    updated_at: datetime


# Branches -----------------------------------------------------------------------------------


class BranchCreate(InputSchema):
    code: Code
    name: Name
    unit_id: Id
    secretary_name: PersonName | None = None


class BranchUpdate(PatchSchema):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"code", "name", "unit_id"})
    code: Code | None = None
    name: Name | None = None
    unit_id: Id | None = None
    secretary_name: PersonName | None = None


class BranchRead(ReadSchema):
    id: int
    code: str
    name: str
    unit_id: Id
    secretary_name: str | None
    created_at: datetime
    updated_at: datetime


# Members ------------------------------------------------------------------------------------


class MemberCreate(InputSchema):
    name: PersonName
    gender: Gender
    branch_id: Id
    birth_date: PastDate | None = None
    joined_on: PastDate | None = None
    categories: Categories = Field(default_factory=list)
    id_number: IdNumber | None = None
    phone: Mobile | None = None
    status: MemberStatus = MemberStatus.active


class MemberUpdate(PatchSchema):
    """Moving a member to another branch is a transfer (POST .../transfer), not a PATCH."""

    non_nullable: ClassVar[frozenset[str]] = frozenset({"name", "gender", "categories", "status"})
    name: PersonName | None = None
    gender: Gender | None = None
    birth_date: PastDate | None = None
    joined_on: PastDate | None = None
    categories: Categories | None = None
    id_number: IdNumber | None = None
    phone: Mobile | None = None
    status: MemberStatus | None = None


class MemberRead(ReadSchema):
    id: int
    name: str
    gender: Gender
    branch_id: Id
    birth_date: date | None
    joined_on: date | None
    categories: list[MemberCategory]
    id_number: str | None
    phone: str | None
    status: MemberStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def for_caller(cls, principal: Principal, member: Member) -> "MemberRead":
        """The member as this caller may see them: personal data masked but for city admins."""
        read = cls.model_validate(member)
        if principal.sees_personal_data:
            return read
        return read.model_copy(
            update={"id_number": mask_id_number(read.id_number), "phone": mask_phone(read.phone)}
        )


class MemberTransferCreate(InputSchema):
    branch_id: Annotated[Id, Field(description="The branch the member moves to.")]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class MemberTransferRead(ReadSchema):
    id: int
    member_id: int
    from_branch_id: int | None = Field(description="Null when the branch is outside your scope.")
    to_branch_id: int | None = Field(description="Null when the branch is outside your scope.")
    reason: str
    transferred_at: datetime
