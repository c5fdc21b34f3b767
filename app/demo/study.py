"""The study phase of batch 1: every branch's sessions and attendance, as rows.

``generate_study`` is pure: from the plan, each branch's active members (id and category)
and the seed's rng it makes session and attendance rows, a chunk at a time; ``study_write``
puts them in the database. Shares are in ``shares.STUDY``.
"""

import random
import uuid
from bisect import bisect
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Final, cast

from app.campaign.enums import Phase
from app.demo.campaign import DemoCampaign
from app.demo.generator import Plan, Row
from app.demo.names import person_name
from app.demo.shares import SHARES, STUDY, STUDY_TIERS, StudyTier
from app.org.enums import UnitKind
from app.study.enums import AttendanceStatus, SessionFormat

# A member's kind for attendance: the hardest to reach of their categories.
REGULAR, RETIRED, INFIRM, OUTGOING, MIGRANT = range(5)
_CATEGORY: Final = {RETIRED: "retired", INFIRM: "infirm", OUTGOING: "outgoing", MIGRANT: "migrant"}
AWAY: Final = (OUTGOING, MIGRANT)
AT_HOME: Final = (RETIRED, INFIRM)

Member = tuple[int, int]  # (member id, kind)

# Hours by half hours, one Decimal object each, shared by every row.
_HOURS: Final = tuple(Decimal(n) / 2 for n in range(25))
_ZERO: Final = _HOURS[0]
_SESSION_HALF_HOURS: Final = (4, 5, 6, 7, 8)  # 2 to 4 hours
# A session is recorded within the phase's window, never after the demo's day; a branch that
# is not idle held its last session in the last two weeks.
_RECENT_DAYS: Final = 14
# How much a format closes the gap to attending: home delivery reaches nearly everyone it
# is taken to, distance learning helps those away, a make-up session those who missed.
_HOME_DELIVERY_GAP = 0.3
_DISTANCE_GAP = 0.5
_MAKE_UP_GAP = 0.6
# Each member's chance is their group's times a personal factor, and never quite certain.
_PERSONAL_SPREAD: Final = (0.94, 1.03)
_MOST_LIKELY: Final = 0.995
# Guests are drawn from the last migrant and outgoing members of the branches before.
_GUEST_POOL = 500
_GUEST_FORMATS: Final = frozenset(
    f.value
    for f in (
        SessionFormat.collective_study,
        SessionFormat.party_lecture,
        SessionFormat.tutorial_report,
        SessionFormat.seminar,
        SessionFormat.distance_learning,
    )
)

PRESENT, LATE = AttendanceStatus.present.value, AttendanceStatus.late.value
EXCUSED, ABSENT = AttendanceStatus.excused.value, AttendanceStatus.absent.value

_TOPICS: Final[dict[SessionFormat, tuple[str, ...]]] = {
    SessionFormat.collective_study: (
        "学习党章",
        "学习“三个代表”重要思想",
        "学习《保持共产党员先进性教育读本》",
        "学习《江泽民论加强和改进执政党建设（专题摘编）》",
        "学习党的十六届四中全会精神",
        "学习《中国共产党党员权利保障条例》",
        "学习《中国共产党纪律处分条例》",
    ),
    SessionFormat.party_lecture: (
        "党课：坚持立党为公 执政为民",
        "党课：做一名合格的共产党员",
        "党课：加强党的执政能力建设",
        "党课：牢记“两个务必”，保持先进本色",
    ),
    SessionFormat.tutorial_report: (
        "辅导报告：新时期保持共产党员先进性的时代要求",
        "辅导报告：深入学习贯彻党章",
        "辅导报告：“三个代表”重要思想与党员先进性",
    ),
    SessionFormat.seminar: (
        "专题讨论：新时期共产党员先进性的具体要求",
        "专题讨论：如何在本职岗位上体现先进性",
        "专题讨论：对照党章找差距",
    ),
    SessionFormat.distance_learning: (
        "远程教育：收看先进性教育专题辅导讲座",
        "远程教育：收看牛玉儒同志先进事迹报告会",
        "远程教育：收看任长霞同志先进事迹专题片",
    ),
    SessionFormat.home_delivery: (
        "送学上门：学习《保持共产党员先进性教育读本》",
        "送学上门：学习党章",
    ),
    SessionFormat.self_study: (
        "自学：学习党章",
        "自学：学习《保持共产党员先进性教育读本》",
        "自学：学习“三个代表”重要思想",
    ),
    SessionFormat.make_up: (
        "补课：学习党章",
        "补课：学习“三个代表”重要思想",
        "补课：学习《保持共产党员先进性教育读本》",
    ),
}
# A leading cadre's title, by the kind of unit the lecture is given in; and who gives a
# tutorial report.
_CADRE_TITLES_BY_KIND: Final[dict[str, tuple[str, ...]]] = {
    UnitKind.village.value: ("镇党委书记", "镇长", "县委常委"),
    UnitKind.township.value: ("镇党委书记", "县委常委"),
    UnitKind.community.value: ("街道党工委书记", "区委常委"),
    UnitKind.organ.value: ("局党组书记", "局长", "区委常委", "县委常委"),
    UnitKind.school.value: ("校党委书记", "校长", "教育局党组书记"),
    UnitKind.enterprise.value: ("公司党委书记", "董事长", "总经理"),
    UnitKind.non_public.value: ("非公企业工委书记", "董事长"),
    UnitKind.social_org.value: ("社会组织党委书记", "民政局党组书记"),
}
_REPORTERS: Final = ("市委党校", "县委宣讲团", "区委党校", "市委讲师团")
_MEETING_ROOM: Final[dict[str, str]] = {
    UnitKind.village.value: "村委会议室",
    UnitKind.community.value: "社区党员活动室",
    UnitKind.school.value: "学校会议室",
}
_LOCATIONS: Final[dict[SessionFormat, str | None]] = {
    SessionFormat.tutorial_report: "礼堂",
    SessionFormat.distance_learning: "远程教育站点",
    SessionFormat.home_delivery: "党员家中",
    SessionFormat.self_study: None,
}

# The non-lecture formats as (format, cumulative weight), for one bisect per session.
_FORMATS: Final = tuple(SessionFormat(f) for f in STUDY["format"])
_FORMAT_CUM: Final = tuple(accumulate(STUDY["format"].values()))
_TIERS: Final = tuple(STUDY_TIERS[t] for t in STUDY["unit_tier"])
_TIER_WEIGHTS: Final = tuple(STUDY["unit_tier"].values())
_LECTURES: Final = tuple(STUDY["leading_cadre_lectures"])
_LECTURE_WEIGHTS: Final = tuple(STUDY["leading_cadre_lectures"].values())


@dataclass(frozen=True)
class StudyChunk:
    sessions: list[Row]
    attendance: list[Row]
    branches_done: int  # branches whose rows are all in this chunk or earlier ones


@dataclass(frozen=True)
class StudyCounts:
    sessions: int
    attendance: int
    totals: int
    generate_seconds: float  # making the rows, not reading members nor writing


@dataclass
class _Unit:
    tier: StudyTier
    single_format: bool
    lectures: Counter[int]  # leading cadres' lectures per branch id


def member_kind(migrant: bool, outgoing: bool, retired: bool, infirm: bool) -> int:
    if migrant:
        return MIGRANT
    if outgoing:
        return OUTGOING
    if infirm:
        return INFIRM
    return RETIRED if retired else REGULAR


def generate_study(
    plan: Plan,
    rng: random.Random,
    campaign: DemoCampaign,
    branch_members: Iterator[Sequence[Member]],
    chunk_size: int,
) -> Iterator[StudyChunk]:
    """Sessions and attendance, branch by branch in id order; ``branch_members`` gives each
    branch's active members (in a fixed order) in turn. A chunk holds at least
    ``chunk_size`` attendance rows (the last one fewer) and the sessions they refer to, so
    writing chunks in order never writes a record before its session."""
    span = max(0, (campaign.today - campaign.study_starts_on).days)
    idle_days = min(STUDY["idle_days"], span + 1)
    branches_of = Counter(b["unit_id"] for b in plan.branches)
    unit_id = 0
    unit = _Unit(_TIERS[0], False, Counter())
    guests: deque[int] = deque(maxlen=_GUEST_POOL)
    sessions: list[Row] = []
    attendance: list[Row] = []

    for done, (branch, members) in enumerate(
        zip(plan.branches, branch_members, strict=True), start=1
    ):
        if branch["unit_id"] != unit_id:
            # Branches run in unit order, so this is the unit's first branch.
            unit_id = branch["unit_id"]
            unit = _draw_unit(rng, branch["id"], branches_of[unit_id])
        if members:
            _Branch(rng, plan, campaign, branch, members, unit).write(
                span, idle_days, guests, sessions, attendance
            )
            guests.extend(m for m, kind in members if kind in AWAY)
        if len(attendance) >= chunk_size:
            yield StudyChunk(sessions, attendance, done)
            sessions, attendance = [], []
    yield StudyChunk(sessions, attendance, len(plan.branches))


def _draw_unit(rng: random.Random, first_branch: int, n_branches: int) -> _Unit:
    tier = rng.choices(_TIERS, weights=_TIER_WEIGHTS)[0]
    single = rng.random() < STUDY["single_format_units"]
    lectures: Counter[int] = Counter()
    if not single:
        k = rng.choices(_LECTURES, weights=_LECTURE_WEIGHTS)[0]
        for _ in range(k):
            lectures[first_branch + rng.randrange(n_branches)] += 1
    return _Unit(tier, single, lectures)


class _Branch:
    """One branch's sessions and records, appended to the caller's lists."""

    def __init__(
        self,
        rng: random.Random,
        plan: Plan,
        campaign: DemoCampaign,
        branch: Row,
        members: Sequence[Member],
        unit: _Unit,
    ) -> None:
        self.rng = rng
        self.campaign = campaign
        self.members = members
        self.unit = unit
        self.branch_id = cast(int, branch["id"])
        self.unit_id = cast(int, branch["unit_id"])
        self.secretary = cast(str | None, branch["secretary_name"])
        self.kind = cast(str, plan.units[self.unit_id - 1]["kind"])

    def write(
        self,
        span: int,
        idle_days: int,
        guests: deque[int],
        sessions: list[Row],
        attendance: list[Row],
    ) -> None:
        rng, tier, members = self.rng, self.unit.tier, self.members
        random_ = rng.random
        if random_() < STUDY["idle_branches"]:
            n = rng.randint(8, 10)
            days = sorted(rng.randrange(idle_days) for _ in range(n))
        else:
            n = round(rng.triangular(*tier.sessions))
            days = sorted(rng.randint(0, span) for _ in range(n))
            recent = max(0, span - _RECENT_DAYS)
            if days[-1] < recent:
                days[-1] = rng.randint(recent, span)
        half = rng.choices(_SESSION_HALF_HOURS, weights=tier.hours, k=n)
        short = round(2 * tier.planned_hours) - sum(half)
        while short > 0 and min(half) < _SESSION_HALF_HOURS[-1]:
            i = rng.randrange(n)
            if half[i] < _SESSION_HALF_HOURS[-1]:
                half[i] += 1
                short -= 1

        chances = [self._chance(kind) for _, kind in members]
        at_home = [j for j, (_, kind) in enumerate(members) if kind in AT_HOME]
        everyone = range(len(members))
        missed: dict[int, None] = {}  # members who missed a session, in order of first miss
        lectures = set(rng.sample(range(n), min(n, self.unit.lectures[self.branch_id])))
        late_share, excused_share = STUDY["late"], STUDY["excused"]
        partial = {PRESENT: STUDY["partial_present"], LATE: STUDY["partial_late"]}
        unrecorded, guest_share = STUDY["unrecorded_never"], STUDY["guest_sessions"]
        branch_id, unit_id = self.branch_id, self.unit_id
        batch_id, starts_on = self.campaign.batch_id, self.campaign.study_starts_on

        for i in range(n):
            cadre = i in lectures
            fmt = self._format(i, n, cadre, bool(at_home), bool(missed))
            h2 = half[i]
            hours = _HOURS[h2]
            session_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            sessions.append(
                {
                    "id": session_id,
                    "branch_id": branch_id,
                    "unit_id": unit_id,
                    "batch_id": batch_id,
                    "phase": Phase.study.value,
                    "held_on": starts_on + timedelta(days=days[i]),
                    "format": fmt.value,
                    "hours": hours,
                    "topic": self._topic(fmt),
                    "lecturer": self._lecturer(fmt, cadre),
                    "lecturer_is_leading_cadre": cadre,
                    "location": _LOCATIONS.get(fmt, _MEETING_ROOM.get(self.kind, "党员活动室")),
                }
            )
            if fmt is SessionFormat.home_delivery:
                targets: Sequence[int] = at_home
            elif fmt is SessionFormat.make_up:
                targets = list(missed)
            else:
                targets = everyone
            for j in targets:
                member_id, kind = members[j]
                chance, never = chances[j]
                if fmt is SessionFormat.home_delivery:  # study taken home reaches nearly all
                    chance = 1 - (1 - chance) * _HOME_DELIVERY_GAP
                elif never:
                    chance = 0.0
                elif fmt is SessionFormat.make_up:
                    chance = 1 - (1 - chance) * _MAKE_UP_GAP
                elif fmt is SessionFormat.distance_learning and kind in AWAY:
                    chance = 1 - (1 - chance) * _DISTANCE_GAP
                given: Decimal | None = None
                if random_() < chance:
                    status = LATE if random_() < late_share else PRESENT
                    credited = hours
                    if h2 > 1 and random_() < partial[status]:
                        given = credited = _HOURS[h2 - 1 - (h2 > 2 and random_() < 0.3)]
                else:
                    if never and random_() < unrecorded:
                        continue  # away for good: the secretary leaves them off the list
                    status = EXCUSED if random_() < excused_share else ABSENT
                    credited = _ZERO
                    missed[j] = None
                attendance.append(
                    {
                        "session_id": session_id,
                        "member_id": member_id,
                        "status": status,
                        "hours": given,
                        "credited": credited,
                        "is_guest": False,
                    }
                )
            if guests and fmt.value in _GUEST_FORMATS and random_() < guest_share:
                attendance.append(
                    {
                        "session_id": session_id,
                        "member_id": guests[int(random_() * len(guests))],
                        "status": PRESENT,
                        "hours": None,
                        "credited": hours,
                        "is_guest": True,
                    }
                )

    def _chance(self, kind: int) -> tuple[float, bool]:
        """(chance of attending a session, never attends) for one member of this branch."""
        tier, rng = self.unit.tier, self.rng
        chance, never = tier.attend, False
        if kind != REGULAR:
            category = _CATEGORY[kind]
            own = min(STUDY["attend"][category], tier.attend)
            never = rng.random() < STUDY["never"].get(category, 0.0) * (1 - tier.reach)
            chance = own + tier.reach * (tier.attend - own)
        return min(_MOST_LIKELY, chance * rng.uniform(*_PERSONAL_SPREAD)), never

    def _format(self, i: int, n: int, cadre: bool, at_home: bool, missed: bool) -> SessionFormat:
        if self.unit.single_format:
            return SessionFormat.collective_study
        if cadre:
            return SessionFormat.party_lecture
        fmt = _FORMATS[bisect(_FORMAT_CUM, self.rng.random() * _FORMAT_CUM[-1])]
        if fmt is SessionFormat.home_delivery and not at_home:
            return SessionFormat.collective_study
        if fmt is SessionFormat.make_up and (2 * i < n or not missed):
            return SessionFormat.collective_study
        return fmt

    def _topic(self, fmt: SessionFormat) -> str:
        topics = _TOPICS[fmt]
        return topics[int(self.rng.random() * len(topics))]

    def _lecturer(self, fmt: SessionFormat, cadre: bool) -> str | None:
        rng = self.rng
        if cadre:
            titles = _CADRE_TITLES_BY_KIND[self.kind]
            title = titles[int(rng.random() * len(titles))]
            return f"{person_name(rng, rng.random() < SHARES['female'])}（{title}）"
        if fmt is SessionFormat.tutorial_report:
            where = _REPORTERS[int(rng.random() * len(_REPORTERS))]
            return f"{person_name(rng, rng.random() < SHARES['female'])}（{where}）"
        if fmt in (SessionFormat.distance_learning, SessionFormat.self_study):
            return None
        return self.secretary
