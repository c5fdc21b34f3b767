"""The columns of a member file, named by their Chinese label or their English code.

The header is the first row, among the first few that hold anything, naming a known column:
rows above it (a title such as 党员花名册, a date) are skipped, as people put them there.
Columns the importer does not know (序号, 支部名称, 备注...) are ignored and reported.
"""

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.errors import InvalidInput
from app.imports import cells
from app.imports.readers import Row
from app.spreadsheets import SheetColumn


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    required: bool
    read: Callable[[cells.Cell], Any]
    hint: str  # for people filling in the template
    width: float  # in Excel's character widths
    aliases: tuple[str, ...] = ()

    @property
    def sheet_column(self) -> SheetColumn:
        kind = "date" if self.read is cells.optional_date else "text"
        return SheetColumn(self.label, self.width, kind)


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, cells.name, "必填，不超过50字", 10),
    Column("gender", "性别", True, cells.gender, "必填：男 或 女", 6),
    Column("birth_date", "出生日期", False, cells.optional_date, "如 1985-07-01、1985/7/1", 12),
    Column(
        "id_number",
        "身份证号",
        True,
        cells.id_number,
        "必填：18位公民身份号码，单元格设为文本格式",
        21,
        ("身份证号码", "公民身份号码"),
    ),
    Column("phone", "手机号", False, cells.phone, "11位手机号码", 14, ("手机号码",)),
    Column("branch_code", "支部编码", True, cells.branch_code, "必填：所在党支部的编码", 15),
    Column(
        "categories",
        "类别",
        False,
        cells.categories,
        "可填多个，用、分隔：流动党员、外出党员、离退休党员、老弱病残党员",
        24,
        ("党员类别",),
    ),
    Column("joined_on", "入党日期", False, cells.optional_date, "如 2008-07-01", 12, ("入党时间",)),
)
BY_CODE = {c.code: c for c in COLUMNS}
ORDER = {c.code: n for n, c in enumerate(COLUMNS)}

# Rows (holding anything) searched for the header before the sheet is said to have none.
HEADER_SEARCH_ROWS = 10


def _key(header: str) -> str:
    # NFKC folds full-width letters and spaces; a trailing * marks a required column.
    return unicodedata.normalize("NFKC", header).strip().rstrip("*").strip().lower()


_LOOKUP: dict[str, Column] = {
    _key(name): c for c in COLUMNS for name in (c.code, c.label, *c.aliases)
}


class NoHeader(InvalidInput):
    type, title = "no-header", "The sheet has no header row"


@dataclass
class Header:
    row: int
    positions: dict[str, int]  # column code -> index in the row
    names: dict[str, str]  # column code -> the header as written in the file
    ignored: list[str] = field(default_factory=list)
    # (column code, error code, message): missing or repeated columns.
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    def name_of(self, code: str) -> str:
        return self.names.get(code, BY_CODE[code].label)


def find_header(rows: Iterator[Row]) -> Header:
    """Consumes rows up to and including the header, and names its columns."""
    for searched, (number, values) in enumerate(rows):
        if searched >= HEADER_SEARCH_ROWS:
            break
        keys = [_key(v) if isinstance(v, str) else "" for v in values]
        if any(k in _LOOKUP for k in keys):
            return _read_header(number, values, keys)
    names = "、".join(c.label for c in COLUMNS if c.required)
    raise NoHeader(
        f"No row names the columns. The first row should hold the headers: {names}, ... "
        "(Chinese labels or English codes); download the template to see them."
    )


def _read_header(number: int, values: list[Any], keys: list[str]) -> Header:
    header = Header(row=number, positions={}, names={})
    for index, (value, key) in enumerate(zip(values, keys, strict=True)):
        column = _LOOKUP.get(key)
        if column is None:
            if key:
                header.ignored.append(str(value).strip())
            continue
        if column.code in header.positions:
            header.problems.append(
                (column.code, "duplicate_column", f"the column {column.label} appears twice")
            )
            continue
        header.positions[column.code] = index
        header.names[column.code] = str(value).strip()
    for column in COLUMNS:
        if column.required and column.code not in header.positions:
            header.problems.append(
                (column.code, "missing_column", f"the required column {column.label} is missing")
            )
    return header
