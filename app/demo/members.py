"""Member rows: people, their categories, dates and personal identifiers.

Categories follow life: retirement comes first and sets the age; the infirm are mostly the
retired, the rest elderly members who never drew a pension (old villagers); migrant and
outgoing members are the working ones.
"""

import random
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from app.demo.names import person_name
from app.demo.shares import (
    AS_OF,
    DISTRICTS,
    KIND_PROFILES,
    MOBILE_PREFIXES,
    OLDEST,
    RETIRED_AGE,
    RETIREE_BRANCH_RETIRED,
    SHARES,
    YOUNGEST,
)
from app.org.enums import UnitKind
from app.org.validators import id_number_check_digit

if TYPE_CHECKING:
    from app.demo.generator import Plan, Row

_YEAR = 365.2425
# Most join in their twenties, some much later; dates are spread from the 18th birthday.
_JOIN_MODE_DAYS = int(6 * _YEAR)
_JOIN_LATEST_DAYS = int(35 * _YEAR)
_MAX_RATE = 0.95
# Members not retired are counted among the elderly (and may be infirm) from this age.
ELDERLY = 60


@dataclass(frozen=True)
class MemberRates:
    """Probabilities for one group of branches (one kind, retirees' branch or not)."""

    retired: float
    migrant: float  # of the not retired
    outgoing: float  # of the not retired
    infirm_retired: float
    infirm_elderly: float  # of the not retired aged ELDERLY or more
    deceased_retired: float
    transferred_out: float
    working_age: tuple[int, int, int]

    @staticmethod
    def calibrated(
        kinds: Sequence[UnitKind], retirees: Sequence[bool], members: Sequence[int]
    ) -> list["MemberRates"]:
        """One rates object per branch, scaled so that expected shares equal SHARES.

        Each kind's leanings (KIND_PROFILES) only say which branches get more of a category;
        the scale factor is solved from how many members each group of branches really has.
        """
        sizes: dict[tuple[UnitKind, bool], int] = {}
        for key in zip(kinds, retirees, strict=True):
            sizes[key] = sizes.get(key, 0)
        for key, n in zip(zip(kinds, retirees, strict=True), members, strict=True):
            sizes[key] += n
        total = sum(sizes.values()) or 1
        shares = SHARES["category"]

        fixed = sum(n for (_, rb), n in sizes.items() if rb) * RETIREE_BRANCH_RETIRED
        leaning = sum(n * KIND_PROFILES[k].retired for (k, rb), n in sizes.items() if not rb)
        scale = max(0.0, shares["retired"] * total - fixed) / leaning if leaning else 0.0
        retired = {
            (k, rb): RETIREE_BRANCH_RETIRED
            if rb
            else min(_MAX_RATE, scale * KIND_PROFILES[k].retired)
            for (k, rb) in sizes
        }
        n_retired = sum(n * retired[key] for key, n in sizes.items()) or 1e-9

        def working_rate(category: str) -> dict[tuple[UnitKind, bool], float]:
            lean = {key: getattr(KIND_PROFILES[key[0]], category) for key in sizes}
            weight = sum(n * (1 - retired[key]) * lean[key] for key, n in sizes.items())
            factor = shares[category] * total / weight if weight else 0.0
            return {key: min(_MAX_RATE, factor * lean[key]) for key in sizes}

        migrant, outgoing = working_rate("migrant"), working_rate("outgoing")
        infirm_retired = SHARES["infirm_among_retired"]
        infirm_left = max(0.0, shares["infirm"] * total - infirm_retired * n_retired)
        n_elderly = sum(
            n * (1 - retired[key]) * share_at_least(KIND_PROFILES[key[0]].working_age, ELDERLY)
            for key, n in sizes.items()
        )
        infirm_elderly = min(_MAX_RATE, infirm_left / n_elderly) if n_elderly else 0.0
        status = SHARES["status"]
        deceased = min(1.0, status["deceased"] * total / n_retired)
        transferred = status["transferred_out"] / (1 - status["deceased"])

        groups = {
            key: MemberRates(
                retired=retired[key],
                migrant=migrant[key],
                outgoing=outgoing[key],
                infirm_retired=infirm_retired,
                infirm_elderly=infirm_elderly,
                deceased_retired=deceased,
                transferred_out=transferred,
                working_age=KIND_PROFILES[key[0]].working_age,
            )
            for key in sizes
        }
        return [groups[key] for key in zip(kinds, retirees, strict=True)]


def share_at_least(triangle: tuple[int, int, int], x: float) -> float:
    """P(X >= x) for X ~ triangular(low, high, mode)."""
    low, high, mode = triangle
    if x <= low:
        return 1.0
    if x >= high:
        return 0.0
    if x >= mode:
        return (high - x) ** 2 / ((high - low) * (high - mode))
    return 1 - (x - low) ** 2 / ((high - low) * (mode - low))


class _IdNumbers:
    """Resident ID numbers unique by construction, with no set of issued numbers.

    GB 11643's sequence (digits 15-17) is odd for men and even for women. Numbers collide
    only with the same area, birth date and sex, so a counter per such triple (kept in a
    flat array of 16-bit slots, under 2 MB at any scale) hands out the next free sequence.
    """

    def __init__(self, as_of: date) -> None:
        self.first_day = as_of.toordinal() - int((OLDEST + 1) * _YEAR)
        self.days = as_of.toordinal() - self.first_day + 1
        self.used = array("H", bytes(2 * 2 * self.days * len(DISTRICTS)))
        self.areas = [area for _, _, area, _ in DISTRICTS]

    def next(self, district: int, birth: date, female: bool) -> str:
        slot = ((district * 2 + female) * self.days) + birth.toordinal() - self.first_day
        count = self.used[slot]
        # 499 women (002..998) or 500 men (001..999) per area, day and sex.
        if count >= 499 + (not female):
            raise OverflowError("too many members born on one day in one district")
        self.used[slot] = count + 1
        # Start each day at a scrambled place so the sequences look issued, not 001, 003...
        offset = (slot * 2654435761) % 500
        n = (offset + count) % (499 + (not female))
        sequence = 2 * n + (2 if female else 1)
        first17 = f"{self.areas[district]}{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        first17 += f"{sequence:03d}"
        return first17 + id_number_check_digit(first17)


def eighteenth_birthday(birth: date) -> date:
    """The day a member may join; someone born on 29 February comes of age on 1 March."""
    try:
        return birth.replace(year=birth.year + YOUNGEST)
    except ValueError:
        return date(birth.year + YOUNGEST, 3, 1)


def generate_members(plan: "Plan", rng: random.Random, chunk_size: int) -> Iterator[list["Row"]]:
    """Members branch by branch, ``chunk_size`` rows at a time, so memory stays flat."""
    as_of = AS_OF
    as_of_ord = as_of.toordinal()
    latest_join = as_of_ord - 1
    ids = _IdNumbers(as_of)
    female_share = SHARES["female"]
    no_phone = SHARES["without_phone"]
    random_ = rng.random
    triangular = rng.triangular
    n_prefixes = len(MOBILE_PREFIXES)
    fromordinal = date.fromordinal
    retired_age = RETIRED_AGE

    chunk: list[Row] = []
    for branch_index, count in enumerate(plan.branch_members):
        if not count:
            continue
        branch_id = branch_index + 1
        district = plan.branch_district[branch_index]
        r = plan.branch_rates[branch_index]
        for _ in range(count):
            retired = random_() < r.retired
            if retired:
                age = triangular(*retired_age)
                infirm = random_() < r.infirm_retired
                migrant = outgoing = False
                dead = random_() < r.deceased_retired
            else:
                low, high, mode = r.working_age
                age = triangular(low, high, mode)
                infirm = age >= ELDERLY and random_() < r.infirm_elderly
                migrant = random_() < r.migrant
                outgoing = random_() < r.outgoing
                dead = False
            female = random_() < female_share
            birth = fromordinal(as_of_ord - int(age * _YEAR))
            earliest = eighteenth_birthday(birth).toordinal()
            span = latest_join - earliest
            joined = earliest + int(
                triangular(0, min(span, _JOIN_LATEST_DAYS), min(span, _JOIN_MODE_DAYS))
            )
            if dead:
                status = "deceased"
            elif random_() < r.transferred_out:
                status = "transferred_out"
            else:
                status = "active"
            phone = (
                None
                if random_() < no_phone
                else f"{MOBILE_PREFIXES[int(random_() * n_prefixes)]}{int(random_() * 1e8):08d}"
            )
            chunk.append(
                {
                    "name": person_name(rng, female),
                    "gender": "female" if female else "male",
                    "birth_date": birth,
                    "joined_on": fromordinal(joined),
                    "branch_id": branch_id,
                    "is_migrant": migrant,
                    "is_outgoing": outgoing,
                    "is_retired": retired,
                    "is_infirm": infirm,
                    "id_number": ids.next(district, birth, female),
                    "phone": phone,
                    "status": status,
                }
            )
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
