"""Rules of the registry. Functions take the request's session and the caller, never commit.

Each looks the object up inside the caller's scope first (404 when outside), then checks that
the caller's role may make the change (403), then writes the change and its audit row.
"""

from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.errors import Conflict, DuplicateCode, InvalidInput, NotFound, UnknownReference
from app.org.enums import MemberStatus
from app.org.models import Branch, District, Member, MemberTransfer, Unit
from app.org.repository import (
    BranchRepository,
    CodedRepository,
    DistrictRepository,
    MemberRepository,
    Repository,
    UnitRepository,
    district_of_branch,
)
from app.org.schemas import (
    BranchCreate,
    BranchUpdate,
    DistrictCreate,
    DistrictUpdate,
    MemberCreate,
    MemberTransferCreate,
    MemberTransferRead,
    MemberUpdate,
    UnitCreate,
    UnitUpdate,
)
from app.pagination import Page, PageParams, paginate_batch

DISTRICT_FIELDS = ("code", "name")
UNIT_FIELDS = ("code", "name", "district_id", "kind")
BRANCH_FIELDS = ("code", "name", "unit_id", "secretary_name")
MEMBER_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "joined_on",
    "branch_id",
    "categories",
    "id_number",
    "phone",
    "status",
)


class DuplicateIdNumber(Conflict):
    type, title = "duplicate-id-number", "ID number already registered"


class MemberNotActive(Conflict):
    type, title = "member-not-active", "Only an active member can be transferred"


def get_or_404(repo: Repository[Any], id: int, entity: str) -> Any:
    obj = repo.get(id)
    if obj is None:
        raise NotFound(f"No {entity} with id {id}.")
    return obj


def _require_parent(repo: Repository[Any], field: str, entity: str, id: int) -> None:
    # A parent outside the caller's scope is, to them, a parent that does not exist.
    if not repo.exists(id):
        raise UnknownReference.to(field, entity, id)


def _require_free_code(repo: CodedRepository[Any], code: str, entity: str, other_than=None) -> None:
    if repo.code_taken(code, other_than=other_than):
        raise DuplicateCode(f"A {entity} with code {code!r} already exists.")


def _create_coded(repo: CodedRepository[Any], entity: str, data: Any) -> Any:
    _require_free_code(repo, data.code, entity)
    return repo.add(repo.model(**data.model_dump()))


def _update_coded(repo: CodedRepository[Any], entity: str, obj: Any, changes: dict) -> Any:
    if "code" in changes and changes["code"] != obj.code:
        _require_free_code(repo, changes["code"], entity, other_than=obj.id)
    for field, value in changes.items():
        setattr(obj, field, value)
    repo.session.flush()
    return obj


def _audited_update(
    repo: CodedRepository[Any], entity: str, obj: Any, changes: dict, fields, district_id
) -> Any:
    before, district_before = audit.snapshot(obj, fields), district_id(obj)
    _update_coded(repo, entity, obj, changes)
    audit.record(
        repo.session,
        repo.principal,
        "update",
        entity,
        obj.id,
        district_id=district_id(obj),
        before=before,
        after=audit.snapshot(obj, fields),
        also_district_id=district_before,
    )
    return obj


# Districts ----------------------------------------------------------------------------------


def create_district(session: Session, principal: Principal, data: DistrictCreate) -> District:
    principal.require(Action.write_district)
    district = _create_coded(DistrictRepository(session, principal), "district", data)
    audit.created(
        session, principal, "district", district, DISTRICT_FIELDS, district_id=district.id
    )
    return district


def update_district(
    session: Session, principal: Principal, district_id: int, data: DistrictUpdate
) -> District:
    repo = DistrictRepository(session, principal)
    district = get_or_404(repo, district_id, "district")
    principal.require(Action.write_district)
    return _audited_update(
        repo, "district", district, data.changes(), DISTRICT_FIELDS, lambda d: d.id
    )


# Units --------------------------------------------------------------------------------------


def create_unit(session: Session, principal: Principal, data: UnitCreate) -> Unit:
    principal.require(Action.write_unit)
    districts = DistrictRepository(session, principal)
    _require_parent(districts, "district_id", "district", data.district_id)
    unit = _create_coded(UnitRepository(session, principal), "unit", data)
    audit.created(session, principal, "unit", unit, UNIT_FIELDS, district_id=unit.district_id)
    return unit


def update_unit(session: Session, principal: Principal, unit_id: int, data: UnitUpdate) -> Unit:
    repo = UnitRepository(session, principal)
    unit = get_or_404(repo, unit_id, "unit")
    principal.require(Action.write_unit)
    changes = data.changes()
    if "district_id" in changes:
        districts = DistrictRepository(session, principal)
        _require_parent(districts, "district_id", "district", changes["district_id"])
    return _audited_update(repo, "unit", unit, changes, UNIT_FIELDS, lambda u: u.district_id)


# Branches -----------------------------------------------------------------------------------


def create_branch(session: Session, principal: Principal, data: BranchCreate) -> Branch:
    principal.require(Action.write_branch)
    _require_parent(UnitRepository(session, principal), "unit_id", "unit", data.unit_id)
    branch = _create_coded(BranchRepository(session, principal), "branch", data)
    audit.created(
        session,
        principal,
        "branch",
        branch,
        BRANCH_FIELDS,
        district_id=district_of_branch(session, branch.id),
    )
    return branch


def update_branch(
    session: Session, principal: Principal, branch_id: int, data: BranchUpdate
) -> Branch:
    repo = BranchRepository(session, principal)
    branch = get_or_404(repo, branch_id, "branch")
    principal.require(Action.write_branch)
    changes = data.changes()
    if "unit_id" in changes:
        units = UnitRepository(session, principal)
        _require_parent(units, "unit_id", "unit", changes["unit_id"])
    return _audited_update(
        repo, "branch", branch, changes, BRANCH_FIELDS, lambda b: district_of_branch(session, b.id)
    )


# Members ------------------------------------------------------------------------------------


def _check_member(repo: MemberRepository, member: Member) -> None:
    if member.birth_date and member.joined_on and member.joined_on <= member.birth_date:
        raise InvalidInput.field("joined_on", "must be after birth_date")
    if not member.id_number:
        return
    holder = repo.holder_of_id_number(member.id_number, other_than=member.id)
    if holder is None:
        return
    if repo.get(holder) is not None:
        raise DuplicateIdNumber(f"Member {holder} already has this ID number.")
    # Outside the caller's scope: the refusal is unavoidable (a person is a member once),
    # but it names no one; moving a member between districts goes through a transfer.
    raise DuplicateIdNumber(
        "This ID number is registered elsewhere; ask the organisation department to "
        "transfer the member instead of registering them again."
    )


def create_member(session: Session, principal: Principal, data: MemberCreate) -> Member:
    principal.require(Action.write_member)
    _require_parent(BranchRepository(session, principal), "branch_id", "branch", data.branch_id)
    repo = MemberRepository(session, principal)
    member = Member(**data.model_dump(exclude={"categories"}))
    member.set_categories(set(data.categories))
    _check_member(repo, member)
    repo.add(member)
    audit.created(
        session,
        principal,
        "member",
        member,
        MEMBER_FIELDS,
        district_id=district_of_branch(session, member.branch_id),
    )
    return member


def update_member(
    session: Session, principal: Principal, member_id: int, data: MemberUpdate
) -> Member:
    repo = MemberRepository(session, principal)
    member = get_or_404(repo, member_id, "member")
    principal.require(Action.write_member)
    before = audit.snapshot(member, MEMBER_FIELDS)
    changes = data.changes()
    if "categories" in changes:
        member.set_categories(set(changes.pop("categories")))
    for field, value in changes.items():
        setattr(member, field, value)
    # The checks' queries must not flush the change first: a taken ID number would then
    # fail on the unique index, a 409 that names nothing, before the check could say so.
    with session.no_autoflush:
        _check_member(repo, member)
    session.flush()
    audit.record(
        session,
        principal,
        "update",
        "member",
        member.id,
        district_id=district_of_branch(session, member.branch_id),
        before=before,
        after=audit.snapshot(member, MEMBER_FIELDS),
    )
    return member


def transfer_member(
    session: Session, principal: Principal, member_id: int, data: MemberTransferCreate
) -> MemberTransfer:
    repo = MemberRepository(session, principal)
    member = get_or_404(repo, member_id, "member")
    principal.require(Action.write_member)
    # The caller must reach the new branch too: a move out of one's own scope goes through
    # the level above, which sees both ends.
    _require_parent(BranchRepository(session, principal), "branch_id", "branch", data.branch_id)
    if member.status != MemberStatus.active:
        raise MemberNotActive(f"The member's status is {member.status}.")
    if data.branch_id == member.branch_id:
        raise InvalidInput.field("branch_id", "the member already belongs to this branch")
    move = MemberTransfer(
        member_id=member.id,
        from_branch_id=member.branch_id,
        to_branch_id=data.branch_id,
        reason=data.reason,
    )
    member.branch_id = data.branch_id
    session.add(move)
    session.flush()
    audit.record(
        session,
        principal,
        "transfer",
        "member",
        member.id,
        district_id=district_of_branch(session, data.branch_id),
        before={"branch_id": move.from_branch_id},
        after={"branch_id": move.to_branch_id, "reason": move.reason},
        also_district_id=district_of_branch(session, move.from_branch_id),
    )
    return move


def transfer_reads(
    session: Session, principal: Principal, moves: list[MemberTransfer]
) -> list[MemberTransferRead]:
    """Moves as the caller may see them: a branch outside their scope shows as null, so
    that the history does not leak other districts' ids."""
    ids = {m.from_branch_id for m in moves} | {m.to_branch_id for m in moves}
    visible = BranchRepository(session, principal).visible(ids)
    return [
        MemberTransferRead.model_validate(m).model_copy(
            update={
                "from_branch_id": m.from_branch_id if m.from_branch_id in visible else None,
                "to_branch_id": m.to_branch_id if m.to_branch_id in visible else None,
            }
        )
        for m in moves
    ]


def list_transfers(
    session: Session, principal: Principal, member_id: int, page: PageParams
) -> Page[MemberTransferRead]:
    repo = MemberRepository(session, principal)
    get_or_404(repo, member_id, "member")
    moves = repo.transfers(member_id)
    return paginate_batch(session, moves, page, lambda ms: transfer_reads(session, principal, ms))
