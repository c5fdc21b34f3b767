"""Schema bases shared by every domain."""

import inspect
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from fastapi import Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}.*")


def _iso_text(pattern: re.Pattern[str], what: str) -> Callable[[Any], Any]:
    """Dates and instants as ISO 8601 text, as documented: pydantic alone would also read a
    number (0, "86400") as Unix time, so a client's slip became 1970-01-01."""

    def check(value: Any) -> Any:
        if isinstance(value, int | float | Decimal) or (
            isinstance(value, str) and not pattern.fullmatch(value.strip())
        ):
            raise ValueError(f"must be an ISO 8601 {what}")
        return value

    return check


_iso_date = _iso_text(_ISO_DATE, "date (YYYY-MM-DD)")
_iso_instant = _iso_text(_ISO_INSTANT, "date and time with zone")
# For query parameters; body fields of an InputSchema get the same check from their type.
Day = Annotated[date, BeforeValidator(_iso_date)]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]


def _is_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _is_int(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("must be an integer")
    return value


# Control characters other than tab and line breaks: PostgreSQL refuses NUL in text (SQLite
# stores it), and the member import refuses them in names, so a value the API took would
# not come back from its own export.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _is_text(value: Any) -> Any:
    if isinstance(value, str) and CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def printable_query(request: Request) -> None:
    """Query text held to the rule of body text, naming the parameter: a NUL would otherwise
    reach PostgreSQL, which refuses it with nothing to say which value was wrong. Query
    types have no InputSchema to carry the check, so the caller's authentication runs it
    (app/auth/dependencies.py get_principal); every parameter sent is checked, read by the
    route or not."""
    bad = dict.fromkeys(
        name for name, value in request.query_params.multi_items() if CONTROL.search(value)
    )
    if bad:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "Value error, must not contain control characters",
                    "type": "value_error",
                }
                for name in bad
            ]
        )


def _each(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``check`` on each item of a list (anything else is left to pydantic to refuse)."""

    def checked(value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                if item is not None:
                    check(item)
        return value

    return checked


def _documented_check(annotation: Any) -> Callable[[Any], Any] | None:
    """The check that holds a field to its documented JSON type, for the types pydantic
    would otherwise coerce into (dates from numbers, booleans from "yes" or 1, integers from
    "1"), and text to printable characters; None for any other type. Optional and annotated
    types are looked through."""
    if get_origin(annotation) is Annotated:
        return _documented_check(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        checks = (_documented_check(kind) for kind in get_args(annotation))
        return next((c for c in checks if c is not None), None)
    if get_origin(annotation) in (list, tuple, set, frozenset):
        kinds = get_args(annotation)
        item = _documented_check(kinds[0]) if kinds else None
        return None if item is None else _each(item)
    if not isinstance(annotation, type) or issubclass(annotation, Enum):
        return None
    for kind, check in (
        (bool, _is_bool),
        (int, _is_int),
        (datetime, _iso_instant),
        (str, _is_text),
    ):
        if issubclass(annotation, kind):
            return check
    return _iso_date if issubclass(annotation, date) else None


# Text that is not blank once stripped. pydantic strips Unicode White_Space, which is
# neither Python's isspace() nor ECMA's \s, so the characters are spelled out.
_NOT_BLANK = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _not_blank(node: dict[str, Any]) -> None:
    if node.get("type") == "string" and node.get("minLength", 0) >= 1:
        node.setdefault("pattern", _NOT_BLANK)
    for kind in node.get("anyOf", ()):
        _not_blank(kind)
    if isinstance(node.get("items"), dict):
        _not_blank(node["items"])


class InputSchema(BaseModel):
    """Request bodies: unknown fields are refused (a typo is an error, not a silent no-op)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Text is stripped before its length is checked, so "required text" documents that
        # it must hold more than whitespace.
        schema = handler.resolve_ref_schema(handler(core_schema))
        for prop in schema.get("properties", {}).values():
            _not_blank(prop)
        return schema

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before pydantic reads the fields: each field whose JSON type pydantic would
        # coerce into gets its check as a validator of its own, so that the fields without
        # one (most of a 1,000-record attendance set) cost no Python call at all.
        super().__init_subclass__(**kwargs)
        annotations = inspect.get_annotations(cls)
        for name, annotation in annotations.items():
            if isinstance(annotation, str):  # a postponed annotation would go unchecked
                raise TypeError(f"{cls.__name__}.{name}: write request body types unquoted")
            if (check := _documented_check(annotation)) is not None:
                annotations[name] = Annotated[annotation, BeforeValidator(_unless_null(check))]
        cls.__annotations__ = annotations


def _unless_null(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        return value if value is None else check(value)

    return checked


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

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The documented schema says what _refuse_null enforces: these fields take no null.
        schema = super().__get_pydantic_json_schema__(core_schema, handler)
        for name in cls.non_nullable:
            prop = schema.get("properties", {}).get(name, {})
            kinds = [k for k in prop.get("anyOf", ()) if k != {"type": "null"}]
            if len(kinds) == 1 and len(prop["anyOf"]) == 2:
                del prop["anyOf"]
                prop.update(kinds[0])
        return schema


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Ids are 64-bit on PostgreSQL: a larger number is refused here rather than by the driver.
# Not 2**63 - 1: FastAPI's OpenAPI models hold bounds as floats, and this is the largest
# 64-bit integer a float holds exactly, so the documented maximum is the enforced one.
MAX_ID = 2**63 - 1024
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
