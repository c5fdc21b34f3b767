"""Reports as spreadsheets: any report's rows through a list of Chinese columns, answered as
CSV (UTF-8 with BOM, streamed row by row) or XLSX (constant memory, frozen header,
autofilter, widths; one sheet, or one per section), on app/spreadsheets.py.

A column says how to read its cell from a row (a JSON row model, or anything else); codes
become their Chinese labels on the way out, so that every export reads the same.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import reduce
from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy.orm import Session
from starlette.responses import StreamingResponse

from app.clock import CAMPAIGN_TZ, today
from app.db import widen_report_memory
from app.labels import LabelledEnum
from app.reports.listing import YIELD_PER, ListReport
from app.spreadsheets import (
    Sheet,
    SheetColumn,
    SpreadsheetFormat,
    csv_response,
    xlsx_sheets_response,
)


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


FormatQuery = Annotated[
    ReportFormat,
    Query(alias="format", description="json (default), or csv / xlsx with Chinese headers."),
]
# What a paged report's description says of its formats.
EXPORTS = (
    "JSON by default; `format=csv` or `format=xlsx` answers every row as a "
    "spreadsheet with Chinese headers and labels (paging is ignored)."
)

Kind = Literal["text", "date", "number", "percent"]


@dataclass(frozen=True)
class ReportColumn:
    header: str  # Chinese
    value: Callable[[Any], Any]  # the row's cell, before labels are applied
    width: float = 12
    kind: Kind = "text"


def _path(path: str) -> Callable[[Any], Any]:
    """``"a.b"``: attribute or key ``a``, then ``b`` of that (None stays None)."""

    def step(obj: Any, name: str) -> Any:
        if obj is None:
            return None
        if isinstance(obj, dict):
            return obj.get(name)
        return getattr(obj, name)

    if "." not in path:
        return lambda row: step(row, path)
    parts = path.split(".")
    return lambda row: reduce(step, parts, row)


def col(
    header: str,
    path: str,
    width: float = 12,
    kind: Kind = "text",
    codes: type[LabelledEnum] | None = None,
) -> ReportColumn:
    """A column reading ``path`` of each row (attributes, or keys of dicts, dotted).
    ``codes``: the values are codes (or lists of codes) of this enum, shown as its labels."""
    read = _path(path)
    if codes is None:
        return ReportColumn(header, read, width, kind)

    def labelled(row: Any) -> Any:
        value = read(row)
        if isinstance(value, list | tuple):
            return [codes(v) for v in value]
        return None if value is None else codes(value)

    return ReportColumn(header, labelled, width, kind)


def cell(value: Any) -> Any:
    """A value as users read it: a code as its Chinese label, a list as labels joined by 、,
    a yes/no as 是/否; dates, numbers and text as they are."""
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.astimezone(CAMPAIGN_TZ).replace(tzinfo=None, microsecond=0)
    if isinstance(value, list | tuple):
        return "、".join(str(cell(v)) for v in value)
    return value


def _csv_cell(value: Any, kind: Kind) -> Any:
    value = cell(value)
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


@dataclass(frozen=True)
class ReportSheet:
    name: str  # 31 characters at most (Excel)
    columns: Sequence[ReportColumn]
    rows: Iterable[Any]

    def sheet(self, fmt: SpreadsheetFormat) -> Sheet:
        columns = [SheetColumn(c.header, c.width, c.kind) for c in self.columns]
        return Sheet(self.name, columns, self._cells(fmt))

    def _cells(self, fmt: SpreadsheetFormat) -> Iterator[list[Any]]:
        kinds = [c.kind for c in self.columns]
        for row in self.rows:
            values = [c.value(row) for c in self.columns]
            if fmt is SpreadsheetFormat.csv:
                yield [_csv_cell(v, k) for v, k in zip(values, kinds, strict=True)]
            else:
                yield [cell(v) for v in values]


def _names(title: str, ascii_name: str, ext: str) -> tuple[str, str]:
    stamp = today().strftime("%Y%m%d")
    return f"{title}-{stamp}.{ext}", f"{ascii_name}-{stamp}.{ext}"


def report_response(
    fmt: SpreadsheetFormat | ReportFormat, sheet: ReportSheet, title: str, ascii_name: str
) -> StreamingResponse:
    """One report as CSV or XLSX, named ``{title}-{yyyymmdd}.{ext}`` (Chinese, with an ASCII
    fallback). XLSX is written before the answer starts, so a failure is still an error."""
    fmt = SpreadsheetFormat(fmt.value)
    filename, fallback = _names(title, ascii_name, fmt.value)
    if fmt is SpreadsheetFormat.xlsx:
        return xlsx_sheets_response([sheet.sheet(fmt)], filename, fallback)
    s = sheet.sheet(fmt)
    return csv_response(s.columns, s.rows, filename, fallback)


def workbook_response(
    sheets: Sequence[ReportSheet], title: str, ascii_name: str
) -> StreamingResponse:
    """Several sections as one XLSX, one sheet each (the bulletin)."""
    filename, fallback = _names(title, ascii_name, "xlsx")
    return xlsx_sheets_response(
        [s.sheet(SpreadsheetFormat.xlsx) for s in sheets], filename, fallback
    )


def sections_response(
    fmt: SpreadsheetFormat | ReportFormat,
    sections: Sequence[ReportSheet],
    title: str,
    ascii_name: str,
) -> StreamingResponse:
    """A report of several sections: CSV holds one table, the first section (the summary);
    XLSX holds every section, one sheet each."""
    if SpreadsheetFormat(fmt.value) is SpreadsheetFormat.csv:
        return report_response(fmt, sections[0], title, ascii_name)
    return workbook_response(sections, title, ascii_name)


def streamed_rows(session: Session, report: ListReport) -> Iterator[Any]:
    """Every row of a list report, read while the answer is sent. By then the request's
    session may be closed, so the rows come on a connection of the stream's own, in one
    statement (one snapshot)."""
    engine = session.get_bind()

    def rows() -> Iterator[Any]:
        with engine.connect() as conn:
            widen_report_memory(conn)
            result = conn.execution_options(yield_per=YIELD_PER).execute(report.statement)
            for r in result:
                yield report.shape(r)

    return rows()
