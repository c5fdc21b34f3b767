"""The inspection report as a spreadsheet, with Chinese headers: CSV the districts (with
the total row), XLSX the districts and the units never inspected, one sheet each."""

from starlette.responses import StreamingResponse

from app.inspection.report import InspectionReport
from app.reports.export import (
    ReportFormat,
    ReportSheet,
    col,
    sections_response,
)

DISTRICT_COLUMNS = (
    col("编码", "code", 14),
    col("县区", "name", 20),
    col("单位数", "units", 10, "number"),
    col("已检查单位", "inspected_units", 12, "number"),
    col("未检查单位", "never_inspected", 12, "number"),
    col("检查次数", "inspections", 10, "number"),
    col("最近检查日期", "last_inspected_on", 14, "date"),
)
NEVER_COLUMNS = (
    col("县区", "district_name", 14),
    col("单位编码", "unit_code", 14),
    col("单位", "unit_name", 28),
    col("所处阶段", "state", 12),
)


def inspection_export(fmt: ReportFormat, report: InspectionReport) -> StreamingResponse:
    districts = ReportSheet("督导检查情况", DISTRICT_COLUMNS, [*report.rows, report.total])
    never = ReportSheet("未检查单位", NEVER_COLUMNS, report.never_inspected)
    return sections_response(fmt, [districts, never], "督导检查情况", "inspections")
