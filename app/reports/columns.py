"""The Chinese columns of each report's export (CSV and XLSX)."""

from app.org.enums import MemberCategory
from app.reports.export import ReportColumn, col
from app.study.enums import SessionFormat

_CATEGORY_COLUMNS = tuple(
    column
    for c in MemberCategory
    for column in (
        col(f"{c.label}数", f"categories.{c.value}.members", 10, "number"),
        col(f"{c.label}参学人数", f"categories.{c.value}.participated", 12, "number"),
        col(f"{c.label}学时达标人数", f"categories.{c.value}.met_hours", 14, "number"),
        col(f"{c.label}覆盖率", f"categories.{c.value}.coverage", 12, "percent"),
    )
)

COVERAGE_COLUMNS: tuple[ReportColumn, ...] = (
    col("代码", "code", 14),
    col("名称", "name", 30),
    col("党员数", "members", 10, "number"),
    col("参学人数", "participated", 10, "number"),
    col("学时达标人数", "met_hours", 12, "number"),
    col("覆盖率", "coverage", 10, "percent"),
    col("人均学时", "avg_hours", 10, "number"),
    col("学习次数", "sessions", 10, "number"),
    col("学习形式数", "formats_used", 10, "number"),
    col("领导干部讲党课次数", "leader_lectures", 16, "number"),
    col("学习形式", "formats", 30, codes=SessionFormat),
    *_CATEGORY_COLUMNS,
)

GAP_COLUMNS: tuple[ReportColumn, ...] = (
    col("党员", "member_name", 12),
    col("所在支部", "branch_name", 28),
    col("所在单位", "unit_name", 30),
    col("党员类别", "categories", 20),
    col("阶段", "phase", 10),
    col("已获学时", "hours", 10, "number"),
    col("应修学时", "required", 10, "number"),
    col("欠缺学时", "missing_hours", 10, "number"),
    col("最近参学日期", "last_attended_on", 14, "date"),
    col("未参学天数", "days_since", 10, "number"),
    col("问题", "reasons", 20),
    col("建议补学方式", "remedy", 12),
)

DEAD_CORNER_COLUMNS: tuple[ReportColumn, ...] = (
    col("县区", "district_name", 14),
    col("单位", "unit_name", 30),
    col("支部代码", "branch_code", 14),
    col("支部", "branch_name", 28),
    col("党员类别", "category", 14),
    col("人数", "members", 8, "number"),
)

WEAK_BRANCH_COLUMNS: tuple[ReportColumn, ...] = (
    col("县区", "district_name", 14),
    col("单位", "unit_name", 30),
    col("支部代码", "branch_code", 14),
    col("支部", "branch_name", 28),
    col("党员数", "members", 8, "number"),
    col("参学人数", "participated", 10, "number"),
    col("参学率", "participation", 10, "percent"),
    col("最近学习日期", "last_session_on", 14, "date"),
    col("未组织学习天数", "days_without_session", 14, "number"),
    col("列入原因", "reasons", 24),
    col("认定理由", "mark.reason", 30),
    col("整建方案", "mark.plan", 40),
    col("整建时限", "mark.due_on", 12, "date"),
    col("整建状态", "mark.status", 10),
    col("认定人", "mark.marked_by", 12),
)
