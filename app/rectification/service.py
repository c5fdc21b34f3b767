"""Rules of rectification items: opening one (from any phase and any source), editing it,
and moving it along open → in_progress → done → verified with an evidence note each step."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign.enums import UnitState
from app.campaign.models import UnitProgress
from app.clock import CAMPAIGN_TZ, today
from app.errors import Conflict, InvalidInput, NotFound, UnknownReference
from app.org.enums import MemberStatus
from app.org.models import Branch, Member
from app.org.repository import UnitRepository, district_of_unit
from app.rectification.enums import (
    TRANSITIONS,
    UNFINISHED,
    RectificationSource,
    RectificationStatus,
)
from app.rectification.models import RectificationItem, RectificationStep
from app.rectification.repository import ItemRepository

ITEM_FIELDS = (
    "unit_id",
    "branch_id",
    "member_id",
    "source",
    "source_ref",
    "phase",
    "problem",
    "measures",
    "owner",
    "deadline",
    "status",
)
EDITABLE = ("branch_id", "problem", "measures", "owner", "deadline")
# The reference of an item an evaluation opens (evaluation/service.source_ref). The
# evaluation finds its items again by it, so a client's item must not wear one: it would
# pass for the member's item and stop the evaluation opening the real one.
EVALUATION_REF = "evaluation:"


class WrongTransition(Conflict):
    type, title = "rectification-wrong-step", "That is not a step the item can take"


class ItemVerified(Conflict):
    type, title = "rectification-verified", "The item has been verified and is closed"


def is_overdue(item: RectificationItem, on: date) -> bool:
    """The rule of repository.overdue_condition, for one item in hand."""
    return item.deadline < on and item.status in UNFINISHED


def get_or_404(
    session: Session, principal: Principal, item_id: int, *, for_update: bool = False
) -> RectificationItem:
    found = ItemRepository(session, principal).get(item_id, for_update=for_update)
    if found is None:
        raise NotFound(f"No rectification item with id {item_id}.")
    return found


def _check_deadline(deadline: date, opened_on: date, loc: Sequence[str | int]) -> None:
    if deadline < opened_on:
        raise InvalidInput.at(
            [*loc, "deadline"], f"must not be before the item was opened ({opened_on})"
        )


def _check_branch(session: Session, unit_id: int, branch_id: int, loc: Sequence[str | int]) -> None:
    branch = session.get(Branch, branch_id)
    if branch is None or branch.unit_id != unit_id:
        raise UnknownReference.at(
            [*loc, "branch_id"],
            f"no branch with id {branch_id} in unit {unit_id}",
            "unknown_reference",
        )


def _phase_now(session: Session, unit_id: int) -> str | None:
    progress = session.get(UnitProgress, unit_id)
    if progress is None:
        return None
    return UnitState(progress.state).value


def open_item(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    branch_id: int | None = None,
    member_id: int | None = None,
    source: RectificationSource | str,
    source_ref: str | None = None,
    problem: str,
    measures: str,
    owner: str,
    deadline: date,
    loc: Sequence[str | int] = ("body",),
) -> RectificationItem:
    """Opens an item in any phase of the unit, audited; never commits.

    Checks scope and consistency, not the caller's role: each caller requires its own
    action first (the route ``write_rectification``; an evaluation or an inspection its
    own). ``loc`` prefixes the location of a bad value in the caller's request, e.g.
    ``("body", "records", 3)``. A member given without a branch gets the member's branch.
    """
    source = RectificationSource(source)
    if UnitRepository(session, principal).get(unit_id) is None:
        raise UnknownReference.at(
            [*loc, "unit_id"], f"no unit with id {unit_id}", "unknown_reference"
        )
    if member_id is not None:
        member = session.get(Member, member_id)
        member_branch = session.get(Branch, member.branch_id) if member else None
        if (
            member is None
            or member.status != MemberStatus.active.value
            or member_branch is None
            or member_branch.unit_id != unit_id
            or (branch_id is not None and member.branch_id != branch_id)
        ):
            raise UnknownReference.at(
                [*loc, "member_id"],
                f"no active member with id {member_id} in this unit",
                "unknown_reference",
            )
        branch_id = member.branch_id
    elif branch_id is not None:
        _check_branch(session, unit_id, branch_id, loc)
    _check_deadline(deadline, today(), loc)
    item = RectificationItem(
        unit_id=unit_id,
        branch_id=branch_id,
        member_id=member_id,
        source=source.value,
        source_ref=source_ref,
        phase=_phase_now(session, unit_id),
        problem=problem,
        measures=measures,
        owner=owner,
        deadline=deadline,
        status=RectificationStatus.open.value,
        created_by=principal.user_id,
    )
    session.add(item)
    session.flush()
    session.add(
        RectificationStep(
            item_id=item.id,
            from_status=None,
            to_status=item.status,
            user_id=principal.user_id,
            username=principal.username,
        )
    )
    audit.created(
        session,
        principal,
        "rectification",
        item,
        ITEM_FIELDS,
        district_id=district_of_unit(session, unit_id),
    )
    return item


def create_item(session: Session, principal: Principal, data) -> RectificationItem:
    principal.require(Action.write_rectification)
    if data.source_ref is not None and data.source_ref.startswith(EVALUATION_REF):
        raise InvalidInput.field(
            "source_ref", f"{EVALUATION_REF}… is reserved for the items evaluations open"
        )
    return open_item(session, principal, **data.model_dump())


def _opened_on(item: RectificationItem) -> date:
    return item.created_at.astimezone(CAMPAIGN_TZ).date()


def update_item(
    session: Session, principal: Principal, item_id: int, changes: dict
) -> RectificationItem:
    item = get_or_404(session, principal, item_id, for_update=True)
    principal.require(Action.write_rectification)
    if item.status == RectificationStatus.verified.value:
        raise ItemVerified(f"Item {item_id} has been verified; it can no longer change.")
    if changes.get("branch_id") is not None:
        _check_branch(session, item.unit_id, changes["branch_id"], ("body",))
        if item.member_id is not None:
            member = session.get(Member, item.member_id)
            if member is not None and member.branch_id != changes["branch_id"]:
                raise InvalidInput.field("branch_id", "the item's member is in another branch")
    if "branch_id" in changes and changes["branch_id"] is None and item.member_id is not None:
        raise InvalidInput.field("branch_id", "an item about a member keeps the member's branch")
    if "deadline" in changes:
        _check_deadline(changes["deadline"], _opened_on(item), ("body",))
    before = audit.snapshot(item, EDITABLE)
    for field, value in changes.items():
        setattr(item, field, value)
    session.flush()
    audit.record(
        session,
        principal,
        "update",
        "rectification",
        item.id,
        district_id=district_of_unit(session, item.unit_id),
        before=before,
        after=audit.snapshot(item, EDITABLE),
    )
    return item


def transition(
    session: Session,
    principal: Principal,
    item_id: int,
    to: RectificationStatus,
    note: str,
) -> RectificationItem:
    """One step along the machine with its evidence note. Verifying, and sending a done
    item back, belong to those who check the unit's work (district and city admins,
    inspectors of the unit), never the unit itself; the other steps to those who do it."""
    item = get_or_404(session, principal, item_id, for_update=True)
    current = RectificationStatus(item.status)
    checking = to is RectificationStatus.verified or (
        current is RectificationStatus.done and to is RectificationStatus.in_progress
    )
    principal.require(Action.verify_rectification if checking else Action.write_rectification)
    if to not in TRANSITIONS[current]:
        allowed = sorted(s.value for s in TRANSITIONS[current])
        raise WrongTransition(
            f"Item {item_id} is {current.value}: it may go to "
            f"{', '.join(allowed) or 'nothing (it is closed)'}, not {to.value}.",
            extensions={"item_status": current.value, "allowed": allowed},
        )
    item.status = to.value
    session.add(
        RectificationStep(
            item_id=item.id,
            from_status=current.value,
            to_status=to.value,
            note=note,
            user_id=principal.user_id,
            username=principal.username,
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        "transition",
        "rectification",
        item.id,
        district_id=district_of_unit(session, item.unit_id),
        before={"status": current.value},
        after={"status": to.value, "note": note},
    )
    return item
