from app.labels import LabelledEnum


class Assessment(LabelledEnum):
    """A supervision team's overall judgement of a unit's campaign work."""

    good = "good", "好"
    fair = "fair", "一般"
    poor = "poor", "差"


class Severity(LabelledEnum):
    low = "low", "轻微"
    medium = "medium", "一般"
    high = "high", "严重"
