"""Member files for tests: rows as people type them, written as XLSX or as CSV in an encoding."""

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import xlsxwriter

from app.org.validators import id_number_check_digit

LABELS = ["姓名", "性别", "出生日期", "身份证号", "手机号", "支部编码", "类别", "入党日期"]
CODES = [
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "branch_code",
    "categories",
    "joined_on",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def id_number(n: int, region: str = "370102") -> str:
    """The n-th of many distinct valid ID numbers (one birth day each, a man's sequence)."""
    birth = date(1950, 1, 1) + timedelta(days=n % 20_000)
    first17 = f"{region}{birth:%Y%m%d}{(n // 20_000) * 2 + 1:03d}"
    return first17 + id_number_check_digit(first17)


def member(branch: str, n: int = 0, **over: Any) -> dict[str, Any]:
    """One valid row, keyed by column code."""
    return {
        "name": f"党员{n}",
        "gender": "男",
        "birth_date": "1970-05-01",
        "id_number": id_number(n),
        "phone": f"138{n:08d}",
        "branch_code": branch,
        "categories": "",
        "joined_on": "1995-07-01",
    } | over


def table(rows: list[dict[str, Any]], header: list[str] = LABELS) -> list[list[Any]]:
    """The header, then each row's cells in the header's order."""
    codes = [CODES[LABELS.index(h)] if h in LABELS else h for h in header]
    return [list(header), *[[r.get(code) for code in codes] for r in rows]]


def xlsx(cells: list[list[Any]], *, above: int = 0) -> bytes:
    """Rows written with the cell types Excel would have: strings as text, dates as date
    cells, numbers as numbers; ``above`` blank rows come first."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("党员")
    as_date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(cells, start=above):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime | date):
                sheet.write_datetime(r, c, value, as_date)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    return buffer.getvalue()


def csv_file(
    cells: list[list[Any]], encoding: str = "utf-8", *, bom: bool = False, delimiter: str = ","
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in cells:
        writer.writerow(["" if v is None else v for v in row])
    data = buffer.getvalue().encode(encoding)
    return ("\ufeff".encode() + data) if bom else data


def upload(client, content: bytes, name: str = "党员.xlsx", **params: Any):
    """POST the file as a browser would."""
    return client.post(
        "/api/v1/imports/members",
        params={k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
        files={"file": (name, content, XLSX if name.endswith(".xlsx") else "text/csv")},
    )
