"""Schema bases shared by every domain."""

from typing import Annotated, Any, ClassVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class InputSchema(BaseModel):
    """Request bodies: unknown fields are refused (a typo is an error, not a silent no-op)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatchSchema(InputSchema):
    """PATCH bodies: every field optional; only the fields sent are changed.

    Fields listed in ``non_nullable`` may be left out but not sent as null, since the column
    cannot be emptied.
    """

    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.non_nullable:
            raise ValueError("may be left out, but not null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Ids are 64-bit on PostgreSQL: a larger number is refused here rather than by the driver.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
