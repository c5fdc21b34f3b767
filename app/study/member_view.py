"""One member's study: totals per phase, the sessions behind them, and any gap."""

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.campaign import repository as campaign_repo
from app.campaign.enums import Phase, UnitState
from app.campaign.lookback import remedy_for
from app.campaign.models import MemberExemption
from app.clock import today
from app.errors import NotFound
from app.org.repository import MemberRepository
from app.study.models import Attendance, MemberStudyTotal, StudySession
from app.study.schemas import AttendedSession, MemberStudyRead, PhaseStudy

INACTIVE_AFTER = timedelta(days=30)
RECENT_SESSIONS = 200


def gap_reasons(
    hours: float | Decimal,
    required: float | Decimal,
    last_attended_on: date | None,
    phase_starts_on: date,
    day: date,
    *,
    phase_runs: bool = True,
) -> list[str]:
    """DESIGN.md's study gap, in a unit's phase: fewer hours than required
    (``below_hours``), or nothing attended in the last 30 days while the phase runs
    (``inactive_30d``: the unit is in the phase and its window began 30 days ago or more).
    The reports apply the same rule in SQL (app/reports/gaps.py); tests pin the two."""
    reasons = []
    if hours < required:
        reasons.append("below_hours")
    running = phase_runs and phase_starts_on + INACTIVE_AFTER <= day
    if running and (last_attended_on is None or last_attended_on < day - INACTIVE_AFTER):
        reasons.append("inactive_30d")
    return reasons


def member_study(session: Session, principal: Principal, member_id: int) -> MemberStudyRead:
    member = MemberRepository(session, principal).get(member_id)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    progress = campaign_repo.progress_of_branch(session, member.branch_id)
    phases: list[PhaseStudy] = []
    current = None
    reasons: list[str] = []
    if progress is not None:
        windows = {
            p.phase: p
            for p in campaign_repo.phases_of(session, [progress.batch_id])[progress.batch_id]
        }
        stored = {
            t.phase: t
            for t in session.scalars(
                sa.select(MemberStudyTotal).where(
                    MemberStudyTotal.member_id == member.id,
                    MemberStudyTotal.batch_id == progress.batch_id,
                )
            )
        }
        for phase in Phase:
            t = stored.get(phase.value)
            phases.append(
                PhaseStudy(
                    batch_id=progress.batch_id,
                    phase=phase,
                    hours=float(t.hours) if t else 0.0,
                    sessions=t.sessions if t else 0,
                    last_attended_on=t.last_attended_on if t else None,
                    required_hours=float(windows[phase.value].min_hours),
                )
            )
        state = UnitState(progress.state)
        current = state.phase
        # The phase a gap is about: the current one; after completing, the last one, which
        # no longer runs (as the look-back and the reports have it).
        measured = Phase.rectification if state is UnitState.completed else current
        # An exempted member is left out of the phase, as the look-back leaves them out.
        if measured is not None and not _exempted(session, member.id, progress.batch_id, measured):
            mine = next(p for p in phases if p.phase is measured)
            reasons = gap_reasons(
                mine.hours,
                mine.required_hours,
                mine.last_attended_on,
                windows[measured.value].starts_on,
                today(),
                phase_runs=current is not None,
            )
    attended = session.execute(
        sa.select(Attendance, StudySession)
        .join(StudySession, StudySession.id == Attendance.session_id)
        .where(Attendance.member_id == member.id)
        .order_by(StudySession.held_on.desc(), StudySession.id)
        .limit(RECENT_SESSIONS)
    ).all()
    return MemberStudyRead(
        member_id=member.id,
        categories=member.categories,
        phases=phases,
        current_phase=current,
        gap=bool(reasons),
        reasons=reasons,
        remedy=remedy_for(member.categories) if reasons else None,
        sessions=[
            AttendedSession(
                session_id=s.id,
                held_on=s.held_on,
                phase=Phase(s.phase),
                format=s.format,
                topic=s.topic,
                status=a.status,
                credited=float(a.credited),
                is_guest=a.is_guest,
            )
            for a, s in attended
        ],
    )


def _exempted(session: Session, member_id: int, batch_id: int, phase: Phase) -> bool:
    return session.get(MemberExemption, (member_id, batch_id, phase.value)) is not None
