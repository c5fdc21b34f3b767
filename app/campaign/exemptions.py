"""Exemptions: members left out of a phase's look-back for a stated reason."""

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign import repository as campaign_repo
from app.campaign.models import MemberExemption
from app.campaign.progress import NotEnrolled, phase_of
from app.campaign.schemas import ExemptionWrite
from app.errors import NotFound
from app.org.repository import MemberRepository, district_of_branch


def _member_and_phase(session: Session, principal: Principal, member_id: int):
    member = MemberRepository(session, principal).get(member_id)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    principal.require(Action.exempt_member)
    progress = campaign_repo.progress_of_branch(session, member.branch_id)
    if progress is None:
        raise NotEnrolled("The member's unit is in no batch.")
    return member, progress.batch_id, phase_of(progress)


def set_exemption(
    session: Session, principal: Principal, member_id: int, data: ExemptionWrite
) -> MemberExemption:
    """Exempts the member from their unit's current phase; writing it again changes it."""
    member, batch_id, phase = _member_and_phase(session, principal, member_id)
    exemption = session.get(MemberExemption, (member.id, batch_id, phase.value))
    before = None
    if exemption is None:
        exemption = MemberExemption(
            member_id=member.id, batch_id=batch_id, phase=phase.value, created_by=principal.user_id
        )
        session.add(exemption)
    else:
        before = audit.snapshot(exemption, ("reason", "note"))
    exemption.reason, exemption.note = data.reason.value, data.note
    session.flush()
    audit.record(
        session,
        principal,
        "exempt" if before is None else "update",
        "member",
        member.id,
        district_id=district_of_branch(session, member.branch_id),
        before=before,
        after={"phase": phase.value, **audit.snapshot(exemption, ("reason", "note"))},
    )
    return exemption


def remove_exemption(session: Session, principal: Principal, member_id: int) -> None:
    member, batch_id, phase = _member_and_phase(session, principal, member_id)
    exemption = session.get(MemberExemption, (member.id, batch_id, phase.value))
    if exemption is None:
        raise NotFound("The member has no exemption in the current phase.")
    before = {"phase": phase.value, **audit.snapshot(exemption, ("reason", "note"))}
    session.delete(exemption)
    session.flush()
    audit.record(
        session,
        principal,
        "unexempt",
        "member",
        member.id,
        district_id=district_of_branch(session, member.branch_id),
        before=before,
    )
