"""The file to fill in: Chinese headers, one example row, and (XLSX) pick lists and notes."""

import io
from datetime import date
from typing import Any

import xlsxwriter
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.auth.principal import Principal
from app.imports.columns import COLUMNS, ORDER
from app.imports.service import MAX_ROWS
from app.org.enums import Gender, MemberCategory
from app.org.models import Branch
from app.org.repository import BranchRepository
from app.org.validators import id_number_check_digit
from app.spreadsheets import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    SpreadsheetFormat,
    attachment,
    csv_rows,
)

# Made up, but valid: area 110101, born 1985-07-01, an odd (male) sequence number.
_EXAMPLE_ID = "11010119850701123"
EXAMPLE_ID_NUMBER = _EXAMPLE_ID + id_number_check_digit(_EXAMPLE_ID)
# Shown when the caller reaches no branch yet: the demo's way of coding branches.
FALLBACK_BRANCH_CODE = "D01-0001-01"
_FILENAME = "党员导入模板"
_ASCII_FILENAME = "member-import-template"


def example_row(branch_code: str) -> list[Any]:
    values = {
        "name": "王建国",
        "gender": Gender.male.label,
        "birth_date": date(1985, 7, 1),
        "id_number": EXAMPLE_ID_NUMBER,
        "phone": "13800138000",
        "branch_code": branch_code,
        "categories": MemberCategory.outgoing.label,
        "joined_on": date(2008, 7, 1),
    }
    return [values[c.code] for c in COLUMNS]


def example_branch_code(session: Session, principal: Principal) -> str:
    """A branch the caller may import into, so that the example shows a code they can use."""
    stmt = BranchRepository(session, principal).base().with_only_columns(Branch.code)
    return session.scalar(stmt.order_by(Branch.code).limit(1)) or FALLBACK_BRANCH_CODE


def template_response(fmt: SpreadsheetFormat, branch_code: str) -> Response:
    row = example_row(branch_code)
    if fmt is SpreadsheetFormat.csv:
        content = b"".join(csv_rows([c.sheet_column for c in COLUMNS], [row]))
        media_type = CSV_MEDIA_TYPE
    else:
        content = xlsx_template(row)
        media_type = XLSX_MEDIA_TYPE
    disposition = attachment(f"{_FILENAME}.{fmt.value}", f"{_ASCII_FILENAME}.{fmt.value}")
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


def xlsx_template(row: list[Any]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
    required = workbook.add_format(
        {"bold": True, "bg_color": "#F2DCDB", "border": 1, "font_color": "#C00000"}
    )
    as_date = workbook.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    # Text, or Excel turns an 18-digit ID number into 1.10101E+17 and loses its last digits.
    as_text = workbook.add_format({"num_format": "@"})

    sheet = workbook.add_worksheet("党员")
    for n, column in enumerate(COLUMNS):
        kind = column.sheet_column.kind
        sheet.set_column(n, n, column.width, as_date if kind == "date" else as_text)
        sheet.write_string(0, n, column.label, required if column.required else header)
        sheet.write_comment(0, n, column.hint, {"x_scale": 2})
        if isinstance(row[n], date):
            sheet.write_datetime(1, n, row[n], as_date)
        else:
            sheet.write_string(1, n, row[n], as_text)
    sheet.freeze_panes(1, 0)
    _pick_lists(sheet)
    _notes(workbook.add_worksheet("填写说明"), header)
    workbook.close()
    return buffer.getvalue()


def _pick_lists(sheet: Any) -> None:
    gender = ORDER["gender"]
    sheet.data_validation(
        1,
        gender,
        MAX_ROWS,
        gender,
        {
            "validate": "list",
            "source": [g.label for g in Gender],
            "error_title": "性别",
            "error_message": "请选择 男 或 女。",
        },
    )
    categories = ORDER["categories"]
    sheet.data_validation(
        1,
        categories,
        MAX_ROWS,
        categories,
        {
            "validate": "list",
            "source": [c.label for c in MemberCategory],
            # A member may be in several categories: a typed "离退休党员、老弱病残党员" is
            # allowed, with a reminder, rather than refused by the pick list.
            "error_type": "information",
            "input_title": "类别",
            "input_message": "可从列表选择；属于多个类别时，用、分隔。",
            "error_title": "类别",
            "error_message": "多个类别请用、分隔，每个须是列表中的类别。",
        },
    )


def _notes(sheet: Any, header: Any) -> None:
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, 2, 8)
    sheet.set_column(3, 3, 60)
    for n, title in enumerate(("列名", "英文代码", "必填", "填写要求")):
        sheet.write_string(0, n, title, header)
    for r, column in enumerate(COLUMNS, start=1):
        sheet.write_row(
            r, 0, [column.label, column.code, "是" if column.required else "", column.hint]
        )
    notes = (
        "第一行为表头，可用中文列名或英文代码；不认识的列（如序号、备注）会被忽略。",
        "日期可写 2005-03-01、2005/3/1、2005年3月1日，或使用 Excel 日期格式。",
        f"每个文件最多 {MAX_ROWS:,} 行、20 MB。任何一行有错误时整个文件都不会导入，",
        "错误报告会列出行号（表头为第 1 行）、列名和原因。",
        "请删除示例行后再导入。",
    )
    for r, note in enumerate(notes, start=len(COLUMNS) + 2):
        sheet.write_string(r, 0, note)
