"""Pure row generation: the organisation tree (a ``Plan``) and its members, in chunks.

Nothing here touches a database. Rows are dicts keyed by column name, ready for a Core
``insert()`` executemany; the timestamps, the same for every row, are left to the writer.
Districts, units and branches carry explicit ids (1..n, in code order), so members can
name their branch without reading ids back.
"""

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.demo.members import MemberRates, generate_members
from app.demo.names import chinese_number, person_name, unit_names
from app.demo.shares import (
    DISTRICTS,
    KIND_PROFILES,
    SHARES,
    Sizes,
)
from app.org.enums import UnitKind

Row = dict[str, object]

# Spread around each kind's mean: branches per unit and members per branch vary a lot.
_BRANCH_SPREAD = 0.6
_MEMBER_SPREAD = 0.5

_RETIREE_BRANCH = {
    UnitKind.organ: "离退休干部党支部",
    UnitKind.school: "退休教师党支部",
    UnitKind.enterprise: "离退休职工党支部",
    UnitKind.township: "离退休党支部",
    UnitKind.community: "老年党支部",
}
_BRANCH_PREFIX = {UnitKind.organ: "机关", UnitKind.school: "教工"}


@dataclass(frozen=True)
class Plan:
    """The tree of one seed, and what the member generator needs to know per branch."""

    sizes: Sizes
    now: datetime  # created_at and updated_at of every row, added by the writer
    districts: list[Row]
    units: list[Row]
    branches: list[Row]
    # Per branch, in branch id order (index = id - 1).
    branch_district: list[int]  # index into DISTRICTS
    branch_members: list[int]
    branch_rates: list[MemberRates]

    def member_chunks(self, rng: random.Random, chunk_size: int) -> Iterator[list[Row]]:
        return generate_members(self, rng, chunk_size)


def largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    """Whole counts summing to ``total`` in proportion to ``shares`` (Hamilton's method)."""
    weight = sum(shares)
    exact = [total * s / weight for s in shares]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def spread(total: int, weights: Sequence[float], rng: random.Random) -> list[int]:
    """``total`` items thrown at random into bins in proportion to ``weights`` (multinomial)."""
    counts = [0] * len(weights)
    if total == 0 or not weights:
        return counts
    if sum(weights) <= 0:
        weights = [1.0] * len(weights)
    for i in rng.choices(range(len(weights)), weights=weights, k=total):
        counts[i] += 1
    return counts


def build_plan(sizes: Sizes, rng: random.Random, now: datetime) -> Plan:
    districts = [
        {"id": i + 1, "code": code, "name": name}
        for i, (code, name, _area, _urban) in enumerate(DISTRICTS)
    ]

    # Exact kind counts, then each unit lands in a district by the kind's urban leaning and
    # the district's own size, so counties hold the villages and city districts the
    # communities.
    kind_shares = SHARES["unit_kind"]
    kinds = list(kind_shares)
    kind_counts = largest_remainder(sizes.units, [kind_shares[k] for k in kinds])
    district_size = [rng.uniform(0.7, 1.3) for _ in DISTRICTS]
    placed: list[tuple[int, int, UnitKind]] = []  # (district index, kind order, kind)
    kind_order = {k: n for n, k in enumerate(UnitKind)}
    for kind, count in zip(kinds, kind_counts, strict=True):
        urban = KIND_PROFILES[kind].urban
        weights = [
            size * (urban if is_urban else 1.0)
            for size, (*_, is_urban) in zip(district_size, DISTRICTS, strict=True)
        ]
        for d in rng.choices(range(len(DISTRICTS)), weights=weights, k=count):
            placed.append((d, kind_order[kind], kind))
    placed.sort(key=lambda p: (p[0], p[1]))
    unit_kind = [kind for _, _, kind in placed]
    unit_district = [d for d, _, _ in placed]

    extra = spread(
        sizes.branches - sizes.units,
        [
            (KIND_PROFILES[k].branches_per_unit - 1) * rng.lognormvariate(0, _BRANCH_SPREAD)
            for k in unit_kind
        ],
        rng,
    )
    branch_counts = [1 + e for e in extra]

    names = _unit_names(unit_kind, unit_district, rng)
    units: list[Row] = []
    branches: list[Row] = []
    branch_unit_kind: list[UnitKind] = []
    branch_district: list[int] = []
    branch_retirees: list[bool] = []
    per_district = [0] * len(DISTRICTS)
    for u, (kind, d, n_branches) in enumerate(
        zip(unit_kind, unit_district, branch_counts, strict=True)
    ):
        per_district[d] += 1
        code = f"{DISTRICTS[d][0]}-{per_district[d]:04d}"
        full, short = names[u]
        if short.startswith("委"):
            # The party committee's own departments read 区委组织部 or 县委组织部.
            short = DISTRICTS[d][1][-1] + short
        org = "党委" if n_branches >= 3 else "党总支" if n_branches == 2 else "党支部"
        units.append(
            {
                "id": u + 1,
                "code": code,
                "name": f"{DISTRICTS[d][1]}{full}{org}",
                "district_id": d + 1,
                "kind": kind.value,
            }
        )
        keeps_retirees = 0 < KIND_PROFILES[kind].retiree_branch_from <= n_branches
        for b in range(1, n_branches + 1):
            retirees = keeps_retirees and b == n_branches
            branches.append(
                {
                    "id": len(branches) + 1,
                    "code": f"{code}-{b:02d}",
                    "name": short + _branch_label(kind, b, n_branches, retirees),
                    "unit_id": u + 1,
                    "secretary_name": person_name(rng, rng.random() < SHARES["female"]),
                }
            )
            branch_unit_kind.append(kind)
            branch_district.append(d)
            branch_retirees.append(retirees)

    weights = [
        KIND_PROFILES[kind].members_per_branch
        * (0.8 if retirees else 1.0)
        * rng.lognormvariate(0, _MEMBER_SPREAD)
        for kind, retirees in zip(branch_unit_kind, branch_retirees, strict=True)
    ]
    if sizes.members >= sizes.branches:
        extra = spread(sizes.members - sizes.branches, weights, rng)
        branch_members = [1 + e for e in extra]
    else:
        branch_members = spread(sizes.members, weights, rng)

    rates = MemberRates.calibrated(branch_unit_kind, branch_retirees, branch_members)
    return Plan(
        sizes=sizes,
        now=now,
        districts=districts,
        units=units,
        branches=branches,
        branch_district=branch_district,
        branch_members=branch_members,
        branch_rates=rates,
    )


def _unit_names(
    unit_kind: list[UnitKind], unit_district: list[int], rng: random.Random
) -> list[tuple[str, str]]:
    """Names distinct within each (district, kind), in unit order."""
    groups: dict[tuple[int, UnitKind], list[int]] = {}
    for u, key in enumerate(zip(unit_district, unit_kind, strict=True)):
        groups.setdefault(key, []).append(u)
    names: list[tuple[str, str]] = [("", "")] * len(unit_kind)
    for (_, kind), members in groups.items():
        for u, name in zip(members, unit_names(rng, kind, len(members)), strict=True):
            names[u] = name
    return names


def _branch_label(kind: UnitKind, number: int, of: int, retirees: bool) -> str:
    if retirees:
        return _RETIREE_BRANCH[kind]
    if of == 1:
        return "党支部"
    return f"{_BRANCH_PREFIX.get(kind, '')}第{chinese_number(number)}党支部"
