from app.labels import LabelledEnum


class Rating(LabelledEnum):
    """A member's democratic evaluation (民主评议)."""

    excellent = "excellent", "优秀"
    qualified = "qualified", "合格"
    basically_qualified = "basically_qualified", "基本合格"
    unqualified = "unqualified", "不合格"

    @property
    def needs_measure(self) -> bool:
        """Basically qualified and unqualified members get a follow-up measure and a
        rectification item."""
        return self in (Rating.basically_qualified, Rating.unqualified)


class Measure(LabelledEnum):
    """The follow-up for a member rated basically qualified or unqualified."""

    counselling = "counselling", "谈心谈话"
    criticism_education = "criticism_education", "批评教育"
    deadline_correction = "deadline_correction", "限期改正"
    persuade_to_withdraw = "persuade_to_withdraw", "劝其退党"
    removal = "removal", "除名"

    @property
    def only_unqualified(self) -> bool:
        """Organisational handling (组织处置) that ends membership is for unqualified
        members only."""
        return self in (Measure.persuade_to_withdraw, Measure.removal)
