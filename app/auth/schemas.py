from typing import Literal

from pydantic import BaseModel, Field

from app.schemas import ReadSchema
from app.users.schemas import UserRead


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class ScopeRead(ReadSchema):
    """What the caller reaches, resolved: a secretary's unit and district are filled in."""

    level: Literal["city", "district", "unit", "branch", "inspected_units"]
    district_id: int | None
    unit_id: int | None
    branch_id: int | None
    unit_ids: list[int]
    district_ids: list[int]


class MeRead(UserRead):
    scope: ScopeRead
