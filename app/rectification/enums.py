from app.labels import LabelledEnum


class RectificationStatus(LabelledEnum):
    """An item's way: open → in_progress → done → verified, one step at a time; a verifier
    may send a done item back to in_progress when the evidence does not convince."""

    open = "open", "待整改"
    in_progress = "in_progress", "整改中"
    done = "done", "已整改"
    verified = "verified", "已验收"


class RectificationSource(LabelledEnum):
    """Where the problem was found (DESIGN.md: 边学边改, from any phase)."""

    look_back = "look_back", "回头看"
    evaluation = "evaluation", "民主评议"
    inspection = "inspection", "督导检查"
    public_feedback = "public_feedback", "群众反映"
    self_found = "self_found", "自查自纠"


# The steps the machine allows; anything else (open → verified, back from verified) is refused.
TRANSITIONS: dict[RectificationStatus, frozenset[RectificationStatus]] = {
    RectificationStatus.open: frozenset({RectificationStatus.in_progress}),
    RectificationStatus.in_progress: frozenset({RectificationStatus.done}),
    RectificationStatus.done: frozenset(
        {RectificationStatus.verified, RectificationStatus.in_progress}
    ),
    RectificationStatus.verified: frozenset(),
}

# Not yet finished by the unit: past the deadline in one of these, the item is overdue.
UNFINISHED = (RectificationStatus.open.value, RectificationStatus.in_progress.value)
