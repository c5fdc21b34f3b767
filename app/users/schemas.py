from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.auth.principal import Role
from app.schemas import Id, InputSchema, PatchSchema, ReadSchema

Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9._@-]+$", to_lower=True),
    Field(description="Letters, digits, '.', '_', '@' and '-'; unique, stored lower-case."),
]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# Not stripped: spaces at either end of a password are part of it.
Password = Annotated[
    str,
    StringConstraints(
        min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH, strip_whitespace=False
    ),
    Field(description=f"At least {MIN_PASSWORD_LENGTH} characters."),
]
UnitIds = Annotated[
    list[Id],
    Field(max_length=10_000, description="Inspectors only: the units their team supervises."),
]


class UserScope(InputSchema):
    """The scope that goes with the role: district_id for a district admin, unit_id for a unit
    admin, branch_id for a branch secretary, unit_ids for an inspector, none for the city."""

    district_id: Id | None = None
    unit_id: Id | None = None
    branch_id: Id | None = None
    unit_ids: UnitIds | None = None


class UserCreate(UserScope):
    username: Username
    display_name: DisplayName
    role: Role
    password: Password


class UserUpdate(PatchSchema):
    """Changing the role resets the scope: send the new role's scope field with it."""

    non_nullable = frozenset({"display_name", "role", "password", "is_active", "unit_ids"})

    display_name: DisplayName | None = None
    role: Role | None = None
    district_id: Id | None = None
    unit_id: Id | None = None
    branch_id: Id | None = None
    unit_ids: UnitIds | None = None
    password: Password | None = None
    is_active: bool | None = None


class UserRead(ReadSchema):
    id: int
    username: str
    display_name: str
    role: Role
    district_id: int | None
    unit_id: int | None
    branch_id: int | None
    unit_ids: list[int]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class PasswordChange(InputSchema):
    current_password: Annotated[
        str, StringConstraints(max_length=MAX_PASSWORD_LENGTH, strip_whitespace=False)
    ]
    new_password: Password
