"""Reading one cell of a member file: text as typed in Excel or a CSV, or a typed XLSX cell.

Each reader returns the value to store, or raises ``CellError`` with a stable code and a
message that tells the person fixing the file what to change. The rules are the API's own
(``app.org.schemas``), so an imported member is one the API would have accepted.
"""

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from app.clock import today
from app.org.enums import Gender, MemberCategory
from app.org.models import CODE_LENGTH
from app.org.validators import id_number_check_digit, is_valid_id_number, is_valid_mobile

NAME_LENGTH = 50

# What python-calamine hands back for a cell; a CSV gives str only.
Cell = str | float | int | bool | date | datetime | Any

_DATE = re.compile(r"^(\d{4})(?:([-/])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})日)$")
# 、 , ; and spaces, in their half- and full-width forms.
_CATEGORY_SEPARATORS = re.compile(r"[、,，;；\s]+")
# Excel's display of a long number it has rounded: 1.10105E+17.
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$", re.IGNORECASE)
_PHONE_SEPARATORS = re.compile(r"[\s-]")


class CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def text(cell: Cell) -> str | None:
    """The cell as text, or None when blank. Whole numbers lose Excel's ".0"."""
    if cell is None:
        return None
    if isinstance(cell, str):
        return cell.strip() or None
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip() or None


def _required(cell: Cell) -> str:
    value = text(cell)
    if value is None:
        raise CellError("required", "required; the cell is empty")
    return value


def name(cell: Cell) -> str:
    value = _required(cell)
    if len(value) > NAME_LENGTH:
        raise CellError("too_long", f"at most {NAME_LENGTH} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise CellError("invalid_text", "contains control characters")
    return value


_GENDERS = {g.label: g.value for g in Gender} | {g.value: g.value for g in Gender}


def gender(cell: Cell) -> str:
    value = _required(cell)
    found = _GENDERS.get(value.lower())
    if found is None:
        raise CellError("invalid_gender", "must be 男 or 女 (or male, female)")
    return found


def optional_date(cell: Cell) -> date | None:
    """2005-03-01, 2005/3/1, 2005年3月1日, or an Excel date cell; never in the future."""
    if isinstance(cell, datetime):
        value = cell.date()
    elif isinstance(cell, date):
        value = cell
    else:
        raw = text(cell)
        if raw is None:
            return None
        if not isinstance(cell, str):
            # A date typed into a cell formatted as a number arrives as Excel's day count.
            raise CellError(
                "invalid_date", "not a date cell: format the cell as a date, or type 2005-03-01"
            )
        value = _parse_date(raw)
    if value > today():
        raise CellError("future_date", "must not be in the future")
    return value


def _parse_date(raw: str) -> date:
    match = _DATE.match(raw)
    if match is None:
        raise CellError("invalid_date", "not a date: write 2005-03-01, 2005/3/1 or 2005年3月1日")
    year, _, month, day, cn_month, cn_day = match.groups()
    try:
        return date(int(year), int(month or cn_month), int(day or cn_day))
    except ValueError:
        raise CellError("invalid_date", "no such day in the calendar") from None


def id_number(cell: Cell) -> str:
    """An 18-character resident ID number (GB 11643) with a valid check digit."""
    value = _required(cell)
    if not isinstance(cell, str) or _SCIENTIFIC.match(value):
        # Excel keeps 15 significant digits: the last three are lost for good.
        raise CellError(
            "id_number_as_number",
            "stored as a number, so Excel has rounded it: format the column as text and "
            "type the ID number again",
        )
    # Full-width digits (１２３) are what a Chinese input method often types.
    value = unicodedata.normalize("NFKC", value).upper()
    if value.isascii() and is_valid_id_number(value):
        return value
    if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()):
        raise CellError("invalid_id_number", "must be 18 characters: 17 digits, then a digit or X")
    expected = id_number_check_digit(value[:17])
    raise CellError(
        "invalid_id_number",
        f"the check digit (last character) should be {expected}: a digit is probably mistyped",
    )


def phone(cell: Cell) -> str | None:
    value = text(cell)
    if value is None:
        return None
    value = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not (value.isascii() and is_valid_mobile(value)):
        raise CellError("invalid_phone", "must be an 11-digit mainland mobile number")
    return value


def branch_code(cell: Cell) -> str:
    value = _required(cell)
    if len(value) > CODE_LENGTH:
        raise CellError("unknown_branch", "no branch has a code this long")
    return value


_CATEGORIES = {c.label: c for c in MemberCategory} | {c.value: c for c in MemberCategory}
_CATEGORY_CHOICES = "、".join(c.label for c in MemberCategory)


def categories(cell: Cell) -> frozenset[MemberCategory]:
    value = text(cell)
    if value is None:
        return frozenset()
    found: set[MemberCategory] = set()
    for token in _CATEGORY_SEPARATORS.split(value):
        if not token:
            continue
        category = _CATEGORIES.get(token.lower())
        if category is None:
            raise CellError(
                "unknown_category", f"unknown category {token!r}: use {_CATEGORY_CHOICES}"
            )
        found.add(category)
    return frozenset(found)
