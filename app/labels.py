"""Enums whose values are the glossary's stable English codes and which carry the Chinese label."""

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """``member = "code", "中文标签"``: the code is the value, the label is what users read."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def codes(cls) -> list[str]:
        return [m.value for m in cls]
