from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from app.org.enums import MemberCategory, UnitKind
from app.schemas import InputSchema, ReadSchema
from app.standards.models import POST_LENGTH, TEXT_LENGTH

MAX_GROUPS = 50
MAX_ITEMS = 100  # per group

ItemText = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LENGTH)]
PostName = Annotated[str, StringConstraints(min_length=1, max_length=POST_LENGTH)]
Note = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class StandardGroup(InputSchema):
    """Requirements for one post (岗位), one category of member, or (neither given) for
    every member."""

    post: PostName | None = Field(default=None, description="e.g. 党员领导干部, 生产一线党员.")
    category: MemberCategory | None = None
    items: Annotated[list[ItemText], Field(min_length=1, max_length=MAX_ITEMS)]

    @model_validator(mode="after")
    def _post_or_category(self) -> Self:
        if self.post is not None and self.category is not None:
            raise ValueError("a group is for a post or for a category of member, not both")
        return self


class StandardCreate(InputSchema):
    """A new version of the unit's standard, whole: it does not change the older ones."""

    from_template: UnitKind | None = Field(
        default=None,
        description="Start from this unit kind's template: without `groups`, the version is "
        "the template as it is; with them, the template is recorded as where it started.",
    )
    groups: Annotated[list[StandardGroup], Field(min_length=1, max_length=MAX_GROUPS)] | None = None
    note: Note | None = Field(default=None, description="What changed, and why.")

    @model_validator(mode="after")
    def _something_to_write(self) -> Self:
        if self.groups is None and self.from_template is None:
            raise ValueError("give the groups, or a template to start from (from_template)")
        return self


class StandardGroupRead(ReadSchema):
    post: str | None
    category: MemberCategory | None
    label: str = Field(description="What users read: the post, the category's label or 全体党员.")
    items: list[str]


class StandardVersionRead(ReadSchema):
    unit_id: int
    version: int
    from_template: UnitKind | None
    note: str | None
    created_at: datetime
    username: str = Field(description="Who wrote the version.")
    items: int = Field(description="How many requirements the version has.")


class StandardRead(ReadSchema):
    unit_id: int
    version: int
    latest_version: int = Field(description="The unit's newest version.")
    from_template: UnitKind | None
    note: str | None
    created_at: datetime
    username: str
    groups: list[StandardGroupRead]


class StandardTemplateRead(ReadSchema):
    unit_kind: UnitKind
    title: str
    groups: list[StandardGroupRead]
