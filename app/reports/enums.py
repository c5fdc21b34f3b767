from app.labels import LabelledEnum


class ReportLevel(LabelledEnum):
    """The level of the tree a coverage report has one row per."""

    city = "city", "全市"
    district = "district", "县区"
    unit = "unit", "单位"
    branch = "branch", "支部"


class GapReason(LabelledEnum):
    """Why a member has a study gap (DESIGN.md)."""

    below_hours = "below_hours", "学时不足"
    inactive_30d = "inactive_30d", "30天未参学"


class WeakReason(LabelledEnum):
    """Why a branch is on the weak-branch list."""

    low_participation = "low_participation", "参学率低于60%"
    no_recent_session = "no_recent_session", "30天未组织学习"
    marked = "marked", "组织部认定"


class WeakMarkStatus(LabelledEnum):
    """Where a weak branch's consolidation (整建) stands."""

    open = "open", "待整顿"
    in_progress = "in_progress", "整顿中"
    done = "done", "已整顿"
