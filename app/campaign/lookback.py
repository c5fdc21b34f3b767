"""The look-back (回头看): who in a unit has not met a phase's hours, and what to do about it.

One query over the unit's members with their running totals and exemptions: its cost is the
unit's member count, whatever the number of sessions behind the totals.
"""

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.campaign.enums import ExemptionReason, Phase, Remedy
from app.campaign.models import BatchPhase, MemberExemption
from app.campaign.schemas import (
    BranchFindings,
    ExemptMember,
    LookBackRead,
    ShortMember,
)
from app.org.enums import MemberCategory, MemberStatus
from app.org.models import Branch, Member
from app.study.models import MemberStudyTotal


def remedy_for(categories: list[MemberCategory]) -> Remedy:
    """DESIGN.md: distance learning for those away, study brought home to the retired and
    infirm, a make-up session for everyone else."""
    if MemberCategory.migrant in categories or MemberCategory.outgoing in categories:
        return Remedy.distance_learning
    if MemberCategory.retired in categories or MemberCategory.infirm in categories:
        return Remedy.home_delivery
    return Remedy.make_up


def look_back(
    session: Session,
    unit_id: int,
    requirement: BatchPhase,
    branches_seen: sa.ColumnElement[bool] = sa.true(),
) -> LookBackRead:
    """The unit's findings over the branches ``branches_seen`` (a condition on Branch):
    the gate counts the whole unit; a caller who sees part of it (a branch secretary) gets
    that part, its members and the figures counted over them."""
    phase, batch_id = requirement.phase, requirement.batch_id
    total = sa.orm.aliased(MemberStudyTotal)
    exemption = sa.orm.aliased(MemberExemption)
    rows = session.execute(
        sa.select(
            Member,
            Branch.code,
            Branch.name,
            sa.func.coalesce(total.hours, 0).label("hours"),
            exemption.reason,
            exemption.note,
        )
        .join(Branch, Branch.id == Member.branch_id)
        .outerjoin(
            total,
            sa.and_(total.member_id == Member.id, total.batch_id == batch_id, total.phase == phase),
        )
        .outerjoin(
            exemption,
            sa.and_(
                exemption.member_id == Member.id,
                exemption.batch_id == batch_id,
                exemption.phase == phase,
            ),
        )
        .where(Branch.unit_id == unit_id, Member.status == MemberStatus.active.value)
        .where(branches_seen)
        .order_by(Branch.code, Member.id)
    ).all()

    need = Decimal(requirement.min_hours)
    branches: dict[int, BranchFindings] = {}
    exempted: list[ExemptMember] = []
    counted = met = 0
    per_branch: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for member, code, name, hours, reason, note in rows:
        if reason is not None:
            exempted.append(
                ExemptMember(
                    member_id=member.id,
                    name=member.name,
                    branch_id=member.branch_id,
                    reason=ExemptionReason(reason),
                    note=note,
                )
            )
            continue
        counted += 1
        per_branch[member.branch_id][0] += 1
        hours = Decimal(hours)
        if hours >= need:
            met += 1
            per_branch[member.branch_id][1] += 1
            continue
        findings = branches.setdefault(
            member.branch_id,
            BranchFindings(
                branch_id=member.branch_id, code=code, name=name, members=0, met=0, short=[]
            ),
        )
        findings.short.append(
            ShortMember(
                member_id=member.id,
                name=member.name,
                categories=member.categories,
                hours=float(hours),
                missing_hours=float(need - hours),
                remedy=remedy_for(member.categories),
            )
        )
    for branch_id, findings in branches.items():
        findings.members, findings.met = per_branch[branch_id]
    # No one to count (all exempted, or an empty unit): nothing is missing. Decimal, so that
    # 19 of 20 meets 0.95 exactly rather than by a float's rounding.
    coverage = Decimal(met) / Decimal(counted) if counted else Decimal(1)
    return LookBackRead(
        unit_id=unit_id,
        batch_id=batch_id,
        phase=Phase(phase),
        min_hours=float(need),
        min_coverage=float(requirement.min_coverage),
        members=counted,
        met=met,
        coverage=float(round(coverage, 4)),
        ok=coverage >= Decimal(requirement.min_coverage),
        branches=list(branches.values()),
        exempted=exempted,
    )
