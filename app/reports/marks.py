"""The department's hand marks of weak branches and their consolidation plans (整建方案)."""

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.auth.principal import Action, Principal
from app.clock import today, utcnow
from app.errors import InvalidInput, NotFound
from app.org.models import Branch
from app.org.repository import BranchRepository, district_of_branch
from app.reports.models import WeakBranchMark
from app.reports.schemas import WeakMarkAnswer, WeakMarkWrite

FIELDS = ("reason", "plan", "due_on", "status")


def _branch(session: Session, principal: Principal, branch_id: int) -> Branch:
    """The branch, 404 when the caller does not see it; then 403 unless they may mark it."""
    branch = BranchRepository(session, principal).get(branch_id)
    if branch is None:
        raise NotFound(f"No branch with id {branch_id}.")
    principal.require(Action.mark_weak_branch)
    return branch


def set_mark(
    session: Session, principal: Principal, branch_id: int, data: WeakMarkWrite
) -> tuple[WeakBranchMark, bool]:
    """Marks the branch weak, or rewrites its mark (plan, due date, status); answers the
    mark and whether it is new. Writing the same mark again changes nothing."""
    branch = _branch(session, principal, branch_id)
    mark = session.get(WeakBranchMark, branch.id)
    before = None if mark is None else audit.snapshot(mark, FIELDS)
    if before is not None and before == audit.snapshot(data, FIELDS):
        return mark, False
    # A past due date is refused when it is set, not when a later write leaves it as it was.
    if (mark is None or data.due_on != mark.due_on) and data.due_on < today():
        raise InvalidInput.field("due_on", "must not be in the past")
    created = mark is None
    if mark is None:
        mark = WeakBranchMark(branch_id=branch.id)
        session.add(mark)
    mark.reason, mark.plan, mark.due_on = data.reason, data.plan, data.due_on
    mark.status = data.status.value
    mark.marked_by = principal.user_id
    mark.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        "create" if created else "update",
        "weak_branch_mark",
        branch.id,
        district_id=district_of_branch(session, branch.id),
        before=before,
        after=audit.snapshot(mark, FIELDS),
    )
    return mark, created


def remove_mark(session: Session, principal: Principal, branch_id: int) -> None:
    branch = _branch(session, principal, branch_id)
    mark = session.get(WeakBranchMark, branch.id)
    if mark is None:
        raise NotFound(f"Branch {branch_id} is not marked weak.")
    before = audit.snapshot(mark, FIELDS)
    session.delete(mark)
    session.flush()
    audit.record(
        session,
        principal,
        "delete",
        "weak_branch_mark",
        branch.id,
        district_id=district_of_branch(session, branch.id),
        before=before,
    )


def answer(session: Session, mark: WeakBranchMark) -> WeakMarkAnswer:
    user = session.get(User, mark.marked_by) if mark.marked_by is not None else None
    return WeakMarkAnswer(
        branch_id=mark.branch_id,
        reason=mark.reason,
        plan=mark.plan,
        due_on=mark.due_on,
        status=mark.status,
        marked_at=mark.updated_at,
        marked_by=user.username if user else None,
    )
