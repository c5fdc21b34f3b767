"""One member's study: totals per phase, the sessions behind them, and any gap."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.campaign import repository as campaign_repo
from app.campaign.enums import Phase, UnitState
from app.campaign.lookback import remedy_for
from app.clock import today
from app.errors import NotFound
from app.org.repository import MemberRepository
from app.study.models import Attendance, MemberStudyTotal, StudySession
from app.study.schemas import AttendedSession, MemberStudyRead, PhaseStudy

INACTIVE_AFTER = timedelta(days=30)
RECENT_SESSIONS = 200


def member_study(session: Session, principal: Principal, member_id: int) -> MemberStudyRead:
    member = MemberRepository(session, principal).get(member_id)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    progress = campaign_repo.progress_of_branch(session, member.branch_id)
    phases: list[PhaseStudy] = []
    current = None
    gap_reasons: list[str] = []
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
        if current is not None:
            mine = next(p for p in phases if p.phase is current)
            window = windows[current.value]
            if mine.hours < mine.required_hours:
                gap_reasons.append("below_hours")
            # DESIGN.md: nothing attended in the last 30 days while the phase runs.
            running = window.starts_on + INACTIVE_AFTER <= today()
            last = mine.last_attended_on
            if running and (last is None or last < today() - INACTIVE_AFTER):
                gap_reasons.append("inactive_30d")
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
        gap=bool(gap_reasons),
        reasons=gap_reasons,
        remedy=remedy_for(member.categories) if gap_reasons else None,
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
