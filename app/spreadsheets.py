"""Spreadsheet answers: CSV and XLSX with Chinese headers, for exports and templates.

CSV is streamed row by row as UTF-8 with a byte order mark: without it Excel reads the file
in the local code page and garbles the Chinese. XLSX is written by xlsxwriter in constant
memory mode to a temporary file and then streamed from disk: a workbook is a ZIP whose
directory comes last, so no byte of it is of use before the last row is written, and memory
stays flat whatever the number of rows.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, BinaryIO, Literal
from urllib.parse import quote

import xlsxwriter
from starlette.responses import StreamingResponse

from app.errors import InvalidInput

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# One sheet holds 1,048,576 rows, the header among them.
XLSX_MAX_ROWS = 1_048_575
_STREAM_CHUNK = 64 * 1024
_CSV_ROWS_PER_CHUNK = 500
# A cell starting with one of these is run as a formula when Excel opens a CSV.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SpreadsheetFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@dataclass(frozen=True)
class SheetColumn:
    header: str
    width: float  # in Excel's character widths
    # number: written as a number cell (reports' counts and shares), so Excel sums and sorts.
    # percent: a number cell shown as 95.1% (a share between 0 and 1).
    kind: Literal["text", "date", "number", "percent"] = "text"


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a workbook: its name (31 characters at most), columns and rows."""

    name: str
    columns: Sequence[SheetColumn]
    rows: Iterable[Sequence[Any]]


class TooManyRowsForXlsx(InvalidInput):
    type, title = "too-many-rows-for-xlsx", "Too many rows for one XLSX sheet"


def attachment(filename: str, ascii_fallback: str) -> str:
    """A Content-Disposition naming the file in Chinese (RFC 6266), with a plain fallback."""
    return f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"


def csv_rows(columns: Sequence[SheetColumn], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The header and the rows as UTF-8 CSV with a BOM, a few hundred rows per chunk."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([c.header for c in columns])
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        out.writerow([_csv_cell(value) for value in row])
        pending += 1
        if pending == _CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.lstrip("'").startswith(_FORMULA_START):
        # Guarded with one more quote, also when it has quotes already ('-x becomes ''-x),
        # so that unguarded_csv_cell can take exactly one off again.
        return "'" + value
    return value


def unguarded_csv_cell(value: str) -> str:
    """A CSV cell as it was before ``_csv_cell`` guarded it against formulas: the importer
    reads an exported file back as the values that were exported."""
    if value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START):
        return value[1:]
    return value


def write_xlsx(
    target: BinaryIO,
    columns: Sequence[SheetColumn],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str,
) -> int:
    """Writes one sheet: bold frozen header, autofilter, column widths, dates as date cells,
    text always as text (never read as a number or a formula). Returns the rows written."""
    return write_xlsx_sheets(target, [Sheet(sheet_name, columns, rows)])[0]


def write_xlsx_sheets(target: BinaryIO, sheets: Sequence[Sheet]) -> list[int]:
    """Writes the sheets one after the other, each as ``write_xlsx`` writes one; constant
    memory holds, since each sheet's rows are written in order before the next sheet's.
    Returns the rows written per sheet."""
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True})
    try:
        formats = {
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#F2DCDB", "border": 1, "valign": "vcenter"}
            ),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"}),
            "text": workbook.add_format({"num_format": "@"}),
            "number": None,
            "percent": workbook.add_format({"num_format": "0.0%"}),
        }
        return [_write_sheet(workbook, formats, s) for s in sheets]
    finally:
        workbook.close()


def _write_sheet(workbook: Any, formats: dict[str, Any], spec: Sheet) -> int:
    sheet = workbook.add_worksheet(spec.name)
    columns = spec.columns
    for n, column in enumerate(columns):
        sheet.set_column(n, n, column.width, formats[column.kind])
    sheet.freeze_panes(1, 0)
    for n, column in enumerate(columns):
        sheet.write_string(0, n, column.header, formats["header"])
    numeric = [c.kind in ("number", "percent") for c in columns]
    written = 0
    for written, row in enumerate(spec.rows, start=1):
        if written > XLSX_MAX_ROWS:
            raise TooManyRowsForXlsx(
                f"One sheet holds {XLSX_MAX_ROWS:,} rows; ask for format=csv, "
                "or narrow the list with filters."
            )
        for n, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(written, n, value, formats["date"])
            elif numeric[n] and isinstance(value, int | float | Decimal):
                sheet.write_number(written, n, value, formats[columns[n].kind])
            else:
                sheet.write_string(written, n, str(value))
    sheet.autofilter(0, 0, written, len(columns) - 1)
    return written


def csv_response(
    columns: Sequence[SheetColumn], rows: Iterable[Sequence[Any]], filename: str, ascii_name: str
) -> StreamingResponse:
    return StreamingResponse(
        csv_rows(columns, rows),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": attachment(filename, ascii_name)},
    )


def xlsx_response(
    columns: Sequence[SheetColumn],
    rows: Iterable[Sequence[Any]],
    filename: str,
    ascii_name: str,
    *,
    sheet_name: str,
) -> StreamingResponse:
    """Writes the workbook now, so that a failure is still an error answer, then streams it."""
    return xlsx_sheets_response([Sheet(sheet_name, columns, rows)], filename, ascii_name)


def xlsx_sheets_response(
    sheets: Sequence[Sheet], filename: str, ascii_name: str
) -> StreamingResponse:
    """A workbook of several sheets, written now and then streamed like ``xlsx_response``."""
    # Closed by the stream once sent, or here if writing fails.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        write_xlsx_sheets(spool, sheets)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(
        _chunks_then_close(spool),
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": attachment(filename, ascii_name),
            "Content-Length": str(size),
        },
    )


def _chunks_then_close(file: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := file.read(_STREAM_CHUNK):
            yield chunk
    finally:
        file.close()


def spreadsheet_content(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a 200 that is JSON, or a spreadsheet when ``format`` asks for one."""
    return {
        200: {
            "description": description,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
