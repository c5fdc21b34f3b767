from app.labels import LabelledEnum


class Phase(LabelledEnum):
    study = "study", "学习动员"
    evaluation = "evaluation", "分析评议"
    rectification = "rectification", "整改提高"


class UnitState(LabelledEnum):
    """Where a unit is: before the campaign reaches it, in one of the phases, or done."""

    not_started = "not_started", "未开始"
    study = "study", "学习动员"
    evaluation = "evaluation", "分析评议"
    rectification = "rectification", "整改提高"
    completed = "completed", "已完成"

    @property
    def phase(self) -> Phase | None:
        return Phase(self.value) if self.value in Phase.codes() else None

    @property
    def next(self) -> "UnitState | None":
        order = list(UnitState)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


class Remedy(LabelledEnum):
    """How to reach a member short of study (DESIGN.md): the session format suggested."""

    distance_learning = "distance_learning", "远程教育"
    home_delivery = "home_delivery", "送学上门"
    make_up = "make_up", "补课"


class ExemptionReason(LabelledEnum):
    """Why a member is left out of a phase's denominator."""

    hospitalised = "hospitalised", "住院治疗"
    abroad = "abroad", "出国（境）"
    seriously_ill = "seriously_ill", "重病卧床"
    incapacitated = "incapacitated", "丧失行为能力"
    other = "other", "其他"
