"""The rectification report as a spreadsheet, with Chinese headers: CSV the counts (with
the total row), XLSX the counts and the overdue items, one sheet each."""

from starlette.responses import StreamingResponse

from app.rectification.report import Level, RectificationReport
from app.reports.export import (
    ReportFormat,
    ReportSheet,
    col,
    sections_response,
)

LEVEL_LABELS = {Level.city: "全市", Level.district: "县区", Level.unit: "单位"}

COUNT_COLUMNS = (
    col("编码", "code", 14),
    col("名称", "name", 28),
    col("整改事项", "items", 10, "number"),
    col("待整改", "open", 10, "number"),
    col("整改中", "in_progress", 10, "number"),
    col("已整改", "done", 10, "number"),
    col("已验收", "verified", 10, "number"),
    col("逾期", "overdue", 10, "number"),
)
OVERDUE_COLUMNS = (
    col("县区", "district_name", 14),
    col("单位", "unit_name", 28),
    col("整改问题", "problem", 40),
    col("责任人", "owner", 14),
    col("整改时限", "deadline", 12, "date"),
    col("状态", "status", 10),
    col("逾期天数", "days_overdue", 10, "number"),
)


def rectification_export(fmt: ReportFormat, report: RectificationReport) -> StreamingResponse:
    level = LEVEL_LABELS[report.level]
    rows = report.rows if report.level is Level.city else [*report.rows, report.total]
    counts = ReportSheet(f"整改情况-{level}", COUNT_COLUMNS, rows)
    title = f"整改情况-{level}"
    ascii_name = f"rectifications-{report.level.value}"
    overdue = ReportSheet("逾期事项", OVERDUE_COLUMNS, report.overdue_items)
    return sections_response(fmt, [counts, overdue], title, ascii_name)
