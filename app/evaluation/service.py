"""Rules of democratic evaluation (民主评议): a branch's evaluations in a batch are written as
a set, like attendance; a rating below qualified carries a follow-up measure and opens a
rectification item for the member, once."""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.campaign import repository as campaign_repo
from app.campaign.enums import Phase, UnitState
from app.campaign.models import Batch, UnitProgress
from app.clock import today, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.evaluation import repository as repo
from app.evaluation.enums import Rating
from app.evaluation.models import Evaluation
from app.evaluation.schemas import (
    MAX_RECORDS,
    BranchEvaluations,
    EvaluationRead,
    EvaluationRecord,
    EvaluationSet,
    EvaluationsWritten,
    PendingMember,
)
from app.limits import PayloadTooLarge
from app.org.models import Branch
from app.org.repository import BranchRepository, district_of_branch
from app.rectification import repository as rectification_repo
from app.rectification.enums import RectificationSource
from app.rectification.service import EVALUATION_REF, open_item

# Evaluations are recorded once the unit has reached the evaluation phase; later phases
# may still correct them.
OPEN_STATES = frozenset({UnitState.evaluation, UnitState.rectification, UnitState.completed})
# An item's deadline when the batch's rectification window has already ended.
DEFAULT_DEADLINE = timedelta(days=30)

Content = tuple[str, str | None, str | None]  # rating, measure, comment


class NotEnrolled(Conflict):
    type, title = "unit-not-enrolled", "The branch's unit takes part in no batch"


class EvaluationNotOpen(Conflict):
    type, title = "evaluation-not-open", "The unit has not reached the evaluation phase"


def source_ref(batch_id: int, member_id: int) -> str:
    """The rectification item's reference to the evaluation: one per member and batch, so
    that however often the set is written, the member's item in the unit is opened once.
    Only the service writes it (a client's ``evaluation:`` reference is refused)."""
    return f"{EVALUATION_REF}{batch_id}:{member_id}"


def _branch(session: Session, principal: Principal, branch_id: int) -> Branch:
    branch = BranchRepository(session, principal).get(branch_id)
    if branch is None:
        raise NotFound(f"No branch with id {branch_id}.")
    return branch


def _progress(session: Session, branch: Branch) -> UnitProgress:
    progress = session.get(UnitProgress, branch.unit_id)
    if progress is None:
        raise NotEnrolled(f"The unit of branch {branch.id} takes part in no batch yet.")
    return progress


def _check_records(session: Session, branch_id: int, records: list[EvaluationRecord]) -> None:
    """Each record names an active member of the branch once, with a measure exactly when
    the rating asks for one. The first bad record is named by its index."""
    seen: set[int] = set()
    for i, r in enumerate(records):
        at = ["body", "records", i]
        if r.member_id in seen:
            raise InvalidInput.at([*at, "member_id"], "appears twice in the set")
        seen.add(r.member_id)
        if r.rating.needs_measure and r.measure is None:
            raise InvalidInput.at(
                [*at, "measure"], f"a follow-up measure is required for {r.rating.value}"
            )
        if not r.rating.needs_measure and r.measure is not None:
            raise InvalidInput.at(
                [*at, "measure"], "only basically_qualified or unqualified take a measure"
            )
        if r.measure is not None and r.measure.only_unqualified and r.rating != Rating.unqualified:
            raise InvalidInput.at([*at, "measure"], f"{r.measure.value} is only for unqualified")
    members = repo.active_members(session, branch_id)
    for i, r in enumerate(records):
        if r.member_id not in members:
            raise InvalidInput.at(
                ["body", "records", i, "member_id"],
                f"member {r.member_id} is not an active member of this branch",
            )


def _counts(ratings: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(Rating.codes(), 0)
    for rating in ratings:
        counts[rating] += 1
    return counts


def _deadline(session: Session, batch_id: int) -> date:
    """The end of the batch's rectification phase; a month from today once that is past."""
    window = campaign_repo.phase(session, batch_id, Phase.rectification.value)
    fallback = today() + DEFAULT_DEADLINE
    return window.ends_on if window and window.ends_on >= today() else fallback


def _open_items(
    session: Session,
    principal: Principal,
    branch: Branch,
    batch_id: int,
    records: list[EvaluationRecord],
) -> list[int]:
    """A rectification item for each member rated below qualified in this write who has none
    in the branch's unit from this batch's evaluation yet. An item stays with the unit that
    opened it: a member who moved on keeps it there, and their new unit opens one the next
    time it writes its branch's set with any change (a set written unchanged writes
    nothing, items included). An item also stays when a later write raises the rating:
    the problem found is still worked off and verified, and the unit's completion gate
    sees it."""
    wanted = [(i, r) for i, r in enumerate(records) if r.rating.needs_measure]
    if not wanted:
        return []
    refs = {r.member_id: source_ref(batch_id, r.member_id) for _, r in wanted}
    existing = rectification_repo.items_by_ref(
        session, RectificationSource.evaluation, branch.unit_id, refs
    )
    deadline = _deadline(session, batch_id)
    owner = (branch.secretary_name or branch.name)[:100]
    opened = []
    for i, r in wanted:
        if existing[r.member_id]:
            continue
        assert r.measure is not None
        problem = f"民主评议评定为“{r.rating.label}”" + (f"：{r.comment}" if r.comment else "")
        item = open_item(
            session,
            principal,
            unit_id=branch.unit_id,
            branch_id=branch.id,
            member_id=r.member_id,
            source=RectificationSource.evaluation,
            source_ref=refs[r.member_id],
            problem=problem,
            measures=r.measure.label,
            owner=owner,
            deadline=deadline,
            loc=("body", "records", i),
        )
        opened.append(item.id)
    return opened


def _as_dict(content: Content | None) -> dict[str, str | None] | None:
    if content is None:
        return None
    return dict(zip(("rating", "measure", "comment"), content, strict=True))


class Written(NamedTuple):
    changed: bool
    opened: list[int]


def write_evaluations(
    session: Session,
    principal: Principal,
    branch: Branch,
    batch_id: int,
    records: list[EvaluationRecord],
) -> Written:
    """Replaces the evaluations of the branch's active members in the batch. The same set
    written again changes no row, opens no item and writes no audit entry."""
    if len(records) > MAX_RECORDS:
        raise PayloadTooLarge(
            f"At most {MAX_RECORDS} records per set; this one has {len(records)}."
        )
    # Writers of one branch's set take turns (PostgreSQL row lock; SQLite writes one at a
    # time anyway), so that each compares against the set the previous one left.
    session.execute(sa.select(Branch.id).where(Branch.id == branch.id).with_for_update())
    _check_records(session, branch.id, records)
    old: dict[int, Content] = {
        r.member_id: (r.rating, r.measure, r.comment)
        for r in repo.branch_set(session, batch_id, branch.id)
    }
    new: dict[int, Content] = {
        r.member_id: (r.rating.value, r.measure and r.measure.value, r.comment) for r in records
    }
    if old == new:
        return Written(False, [])
    table = Evaluation.__table__
    gone = [m for m in old if m not in new]
    changed = [m for m in new if m in old and old[m] != new[m]]
    added = [m for m in new if m not in old]
    stamp = {"evaluated_at": utcnow(), "evaluated_by": principal.user_id}
    if gone or changed:
        session.execute(
            sa.delete(table).where(
                table.c.batch_id == batch_id, table.c.member_id.in_([*gone, *changed])
            )
        )
    if changed or added:
        session.execute(
            sa.insert(table),
            [
                {
                    "batch_id": batch_id,
                    "member_id": m,
                    "rating": new[m][0],
                    "measure": new[m][1],
                    "comment": new[m][2],
                    **stamp,
                }
                for m in [*changed, *added]
            ],
        )
    opened = _open_items(session, principal, branch, batch_id, records)

    def shown(contents: dict[int, Content]) -> dict[str, dict | None]:
        """Per member, the record or None: the audit keeps only the members that changed."""
        return {str(m): _as_dict(contents.get(m)) for m in old.keys() | new.keys()}

    audit.record(
        session,
        principal,
        "evaluation",
        "branch",
        branch.id,
        district_id=district_of_branch(session, branch.id),
        before=shown(old),
        after=shown(new),
        context={"batch_id": batch_id},
    )
    return Written(True, opened)


def put_evaluations(
    session: Session, principal: Principal, branch_id: int, data: EvaluationSet
) -> EvaluationsWritten:
    branch = _branch(session, principal, branch_id)
    principal.require(Action.record_evaluation)
    progress = _progress(session, branch)
    if data.batch_id != progress.batch_id:
        raise InvalidInput.field(
            "batch_id", f"the branch's unit takes part in batch {progress.batch_id}"
        )
    state = UnitState(progress.state)
    if state not in OPEN_STATES:
        raise EvaluationNotOpen(
            f"The unit of branch {branch.id} is in {state.value}; evaluations are recorded "
            "from the evaluation phase on.",
            extensions={"state": state.value},
        )
    written = write_evaluations(session, principal, branch, data.batch_id, data.records)
    counts = _counts(r.rating.value for r in data.records)
    return EvaluationsWritten(
        branch_id=branch.id,
        batch_id=data.batch_id,
        changed=written.changed,
        records=len(data.records),
        rectifications_opened=written.opened,
        **counts,
    )


def branch_evaluations(
    session: Session, principal: Principal, branch_id: int, batch_id: int | None
) -> BranchEvaluations:
    """The branch's active members with their evaluations in the batch (default: the batch
    its unit takes part in), and those still to be evaluated."""
    branch = _branch(session, principal, branch_id)
    progress = _progress(session, branch)
    if batch_id is not None and session.get(Batch, batch_id) is None:
        raise NotFound(f"No batch with id {batch_id}.")
    batch_id = batch_id or progress.batch_id
    rows = repo.branch_view(session, batch_id, branch.id)
    bad = [r.member_id for r in rows if r.rating and Rating(r.rating).needs_measure]
    # Through the caller's scope too: the id of an item the caller cannot open (a branch
    # secretary's member brought it from another branch) names what, to them, is not there.
    items = rectification_repo.ItemRepository(session, principal).by_ref(
        RectificationSource.evaluation,
        branch.unit_id,
        {m: source_ref(batch_id, m) for m in bad},
    )
    records, pending = [], []
    for r in rows:
        if r.rating is None:
            pending.append(PendingMember(member_id=r.member_id, name=r.name, exempted=r.exempted))
            continue
        found = items.get(r.member_id)
        records.append(
            EvaluationRead(
                member_id=r.member_id,
                name=r.name,
                rating=r.rating,
                measure=r.measure,
                comment=r.comment,
                evaluated_at=r.evaluated_at,
                rectification_id=found[0].id if found else None,
            )
        )
    counts = _counts(r.rating.value for r in records)
    return BranchEvaluations(
        branch_id=branch.id,
        batch_id=batch_id,
        unit_state=progress.state,
        members=len(rows),
        evaluated=len(records),
        records=records,
        not_evaluated=pending,
        **counts,
    )
