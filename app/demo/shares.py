"""The demo's numbers: sizes, shares and the shape of each kind of unit, in one place.

``SHARES`` is what the README quotes. The generator hits the unit-kind shares exactly
(largest remainder) and the member shares in expectation: per-kind leanings in
``KIND_PROFILES`` are rescaled at seed time so that they average out to ``SHARES``.
"""

from dataclasses import dataclass
from datetime import date
from typing import Final

from app.org.enums import UnitKind

# The first batch of the campaign, the size the design is built for (scale 1.0).
UNITS_AT_SCALE_1: Final = 1_457
BRANCHES_AT_SCALE_1: Final = 2_362
MEMBERS_AT_SCALE_1: Final = 35_585

# Ages and dates are reckoned from a fixed day rather than today, so that a seed gives the
# same rows whenever it runs; the day is in the past, so no date is in the future.
AS_OF: Final = date(2025, 1, 1)

SHARES: Final = {
    # Share of units of each kind (exact, up to rounding of the count).
    "unit_kind": {
        UnitKind.village: 0.36,
        UnitKind.organ: 0.15,
        UnitKind.community: 0.12,
        UnitKind.non_public: 0.12,
        UnitKind.school: 0.09,
        UnitKind.enterprise: 0.07,
        UnitKind.township: 0.05,
        UnitKind.social_org: 0.04,
    },
    # Share of members in each category (expected); a member may be in several.
    "category": {"migrant": 0.06, "outgoing": 0.08, "retired": 0.20, "infirm": 0.07},
    # Of the retired, the share also infirm: infirm members are mostly retired ones.
    "infirm_among_retired": 0.30,
    "female": 0.27,
    # Everyone else is active.
    "status": {"transferred_out": 0.010, "deceased": 0.005},
    "without_phone": 0.05,
}


@dataclass(frozen=True)
class KindProfile:
    """How units of one kind look; category leanings are relative, not shares."""

    branches_per_unit: float  # mean; every unit has at least one
    members_per_branch: float  # mean weight; skewed further per branch
    working_age: tuple[int, int, int]  # (youngest, oldest, commonest) of the not retired
    retired: float
    migrant: float
    outgoing: float
    urban: float  # weight of a city district (区) against 1.0 for a county (县)
    # Units with this many branches keep one for their retirees (离退休党支部); 0 = never.
    retiree_branch_from: int = 0


KIND_PROFILES: Final[dict[UnitKind, KindProfile]] = {
    # Villages: many, small, older members, many working away (外出务工).
    UnitKind.village: KindProfile(1.12, 12, (22, 82, 52), 0.2, 1.1, 2.2, 0.15),
    UnitKind.community: KindProfile(1.7, 16, (22, 75, 46), 1.5, 1.2, 0.6, 4.0, 3),
    UnitKind.township: KindProfile(4.0, 14, (23, 60, 42), 0.8, 0.3, 0.4, 0.3, 3),
    UnitKind.organ: KindProfile(2.2, 20, (23, 60, 42), 1.6, 0.2, 0.2, 1.5, 3),
    UnitKind.school: KindProfile(1.8, 15, (23, 60, 38), 1.3, 0.2, 0.2, 1.3, 3),
    UnitKind.enterprise: KindProfile(3.5, 24, (21, 60, 38), 1.3, 0.9, 0.8, 1.6, 3),
    # Non-public enterprises and social organisations: one small branch, young and mobile.
    UnitKind.non_public: KindProfile(1.0, 7, (20, 60, 33), 0.1, 2.2, 0.9, 2.0),
    UnitKind.social_org: KindProfile(1.0, 6, (22, 72, 45), 0.8, 1.0, 0.5, 1.8),
}

# Members of a retirees' branch are nearly all retired, whatever the kind.
RETIREE_BRANCH_RETIRED: Final = 0.92
# Retired members' ages: (youngest, oldest, commonest). Women retire from 55 in China.
RETIRED_AGE: Final = (55, 95, 69)
YOUNGEST: Final = 18
OLDEST: Final = 95

# District code, name, the 6-digit administrative area code (first six digits of a resident
# ID number issued there) and whether it is a city district (区) or a county (县).
DISTRICTS: Final = (
    ("D01", "城东区", "411302", True),
    ("D02", "城西区", "411303", True),
    ("D03", "城南区", "411304", True),
    ("D04", "城北区", "411305", True),
    ("D05", "江滨区", "411306", True),
    ("D06", "青山县", "411321", False),
    ("D07", "河口县", "411322", False),
    ("D08", "龙泉县", "411323", False),
    ("D09", "白沙县", "411324", False),
    ("D10", "石桥县", "411325", False),
    ("D11", "安平县", "411326", False),
    ("D12", "清水县", "411327", False),
)

# Mobile prefixes of the three carriers; a number is a prefix and eight random digits.
MOBILE_PREFIXES: Final = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    units: int
    branches: int
    members: int

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        if not 0 < scale < float("inf"):
            raise ValueError(f"scale must be a positive number, not {scale!r}")
        units = max(1, round(UNITS_AT_SCALE_1 * scale))
        branches = max(units, round(BRANCHES_AT_SCALE_1 * scale))
        return cls(units, branches, round(MEMBERS_AT_SCALE_1 * scale))


# The study phase of batch 1 (app/demo/study.py): what the README quotes about sessions and
# attendance. Units study as a whole (a unit's party committee drives its branches), so a
# unit draws a tier and its branches follow it.
STUDY: Final = {
    "unit_tier": {"model": 0.45, "steady": 0.40, "lagging": 0.15},
    # Branches that held all their sessions in the phase's first days, then nothing.
    "idle_branches": 0.03,
    "idle_days": 10,
    # Units whose branches used one format only (学习形式单一): collective study.
    "single_format_units": 0.10,
    # Leading cadres' party lectures (领导干部讲党课) per unit, of the units not single-format.
    "leading_cadre_lectures": {0: 0.20, 1: 0.50, 2: 0.30},
    # The other sessions' formats (weights); home delivery only where retired or infirm
    # members are, make-up only in the second half and only for members who missed one.
    "format": {
        "collective_study": 0.46,
        "seminar": 0.14,
        "tutorial_report": 0.10,
        "distance_learning": 0.10,
        "self_study": 0.08,
        "party_lecture": 0.04,
        "home_delivery": 0.04,
        "make_up": 0.04,
    },
    # Chance that a member attends a session, by category (the hardest to reach applies:
    # migrant, then outgoing, infirm, retired), before the tier's reach; and the share who
    # never attend at all.
    "attend": {"migrant": 0.15, "outgoing": 0.35, "infirm": 0.45, "retired": 0.85},
    "never": {"migrant": 0.40, "outgoing": 0.15, "infirm": 0.10},
    # Of the attended records, late; of the missed, excused (the rest absent).
    "late": 0.06,
    "excused": 0.50,
    # Records with fewer hours than the session's (left early): of present, of late.
    "partial_present": 0.01,
    "partial_late": 0.25,
    # Missed records of members who never attend that are not written at all.
    "unrecorded_never": 0.50,
    # Sessions with a migrant or outgoing member of another branch as a guest.
    "guest_sessions": 0.01,
}


@dataclass(frozen=True)
class StudyTier:
    """How a unit's branches study: sessions, hours, and how well they reach members."""

    sessions: tuple[int, int, int]  # per branch: (fewest, most, commonest)
    hours: tuple[float, float, float, float, float]  # weights of 2, 2.5, 3, 3.5 and 4 hours
    planned_hours: float  # a branch's sessions are lengthened to at least this many hours
    attend: float  # chance that a member in no category attends a session
    reach: float  # share of the gap to ``attend`` closed for the hard-to-reach categories


STUDY_TIERS: Final[dict[str, StudyTier]] = {
    "model": StudyTier((12, 16, 15), (0, 1, 2, 4, 5), 54.0, 0.98, 0.90),
    "steady": StudyTier((8, 15, 10), (1, 2, 4, 3, 2), 0.0, 0.92, 0.30),
    "lagging": StudyTier((8, 10, 8), (5, 4, 3, 1, 0), 0.0, 0.82, 0.0),
}
