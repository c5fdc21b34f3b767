"""Rows out of an uploaded file, numbered as the spreadsheet shows them (the first row is 1).

What the file is comes from its first bytes, not its name or content type, which browsers and
people get wrong: a ZIP or an OLE2 container is a workbook (XLSX, ODS, or Excel 97's XLS) read
by python-calamine; anything else must be CSV text, in UTF-8 (with or without the BOM) or in
GB18030, the superset of the GBK that Chinese Excel writes.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetVisibleEnum

from app.errors import InvalidInput
from app.spreadsheets import unguarded_csv_cell

# A row number as the spreadsheet shows it, and its cells.
Row = tuple[int, list[Any]]

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A ZIP inflates: 20 MB of XLSX can hold far more than 100,000 rows of XML, or a bomb.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
_DELIMITERS = (",", "\t", ";")


class EmptyFile(InvalidInput):
    type, title = "empty-file", "The file is empty"


class NotASpreadsheet(InvalidInput):
    type, title = "not-a-spreadsheet", "The file is not a spreadsheet"


class PasswordProtected(NotASpreadsheet):
    type, title = "password-protected", "The workbook is password-protected"


def read_rows(file: BinaryIO) -> Iterator[Row]:
    """The file's non-blank rows. Problems with the file as a whole are raised here, before
    the first row; a CSV broken further down raises NotASpreadsheet where it breaks."""
    file.seek(0)
    head = file.read(len(_OLE2))
    file.seek(0)
    if not head:
        raise EmptyFile("The file has no content.")
    if head.startswith(_ZIP) or head.startswith(_OLE2):
        return _workbook_rows(file, zipped=head.startswith(_ZIP))
    return _csv_rows(file.read())


def is_blank(values: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _workbook_rows(file: BinaryIO, *, zipped: bool) -> Iterator[Row]:
    if zipped:
        _refuse_bombs(file)
    try:
        workbook = CalamineWorkbook.from_filelike(file)
        sheet = workbook.get_sheet_by_index(_first_visible_sheet(workbook))
    except PasswordError:
        raise PasswordProtected("Remove the password in Excel and upload it again.") from None
    except CalamineError:
        raise NotASpreadsheet(
            "It is neither an Excel workbook (.xlsx, .xls) nor CSV; save it from Excel as "
            ".xlsx, or as CSV."
        ) from None
    return _numbered(sheet.iter_rows())


def _refuse_bombs(file: BinaryIO) -> None:
    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise NotASpreadsheet("It starts like a ZIP file but is damaged.") from None
    finally:
        file.seek(0)
    if unpacked > MAX_UNPACKED_BYTES:
        raise NotASpreadsheet(
            f"It unpacks to over {MAX_UNPACKED_BYTES // 2**20} MB, more than any member list."
        )


def _first_visible_sheet(workbook: CalamineWorkbook) -> int:
    # The template's second sheet explains the columns; a hidden first sheet is nobody's list.
    for index, meta in enumerate(workbook.sheets_metadata):
        if meta.visible == SheetVisibleEnum.Visible:
            return index
    return 0


def _numbered(rows: Iterator[list[Any]]) -> Iterator[Row]:
    # calamine starts at the sheet's first row even when the data starts lower down.
    for number, values in enumerate(rows, start=1):
        if not is_blank(values):
            yield number, values


def _csv_rows(data: bytes) -> Iterator[Row]:
    text = _decode(data)
    if not text.strip():
        raise EmptyFile("The file holds only blank lines.")
    if "\x00" in text:
        raise NotASpreadsheet("It holds binary data, not text; upload an .xlsx file or a CSV.")
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = max(_DELIMITERS, key=first_line.count)
    return _csv_records(text, delimiter)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text": tab-separated UTF-16.
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotASpreadsheet(
        "It is not an Excel workbook, nor text in UTF-8 or GB18030 (GBK); save it from Excel "
        "as .xlsx, or as CSV."
    )


def _csv_records(text: str, delimiter: str) -> Iterator[Row]:
    # Records, not lines: a quoted cell holding a line break is one row in Excel too.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, values in enumerate(reader, start=1):
            if not is_blank(values):
                yield number, [unguarded_csv_cell(value) for value in values]
    except csv.Error as exc:
        raise NotASpreadsheet(f"The CSV cannot be read after row {number}: {exc}.") from None
