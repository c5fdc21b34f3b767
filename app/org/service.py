"""Rules of the registry. Functions take the request's session and never commit."""

from typing import Any

from sqlalchemy.orm import Session

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
)
from app.org.schemas import (
    BranchCreate,
    BranchUpdate,
    DistrictCreate,
    DistrictUpdate,
    MemberCreate,
    MemberTransferCreate,
    MemberUpdate,
    UnitCreate,
    UnitUpdate,
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


# Districts ----------------------------------------------------------------------------------


def create_district(session: Session, data: DistrictCreate) -> District:
    return _create_coded(DistrictRepository(session), "district", data)


def update_district(session: Session, district_id: int, data: DistrictUpdate) -> District:
    repo = DistrictRepository(session)
    district = get_or_404(repo, district_id, "district")
    return _update_coded(repo, "district", district, data.changes())


# Units --------------------------------------------------------------------------------------


def create_unit(session: Session, data: UnitCreate) -> Unit:
    _require_parent(DistrictRepository(session), "district_id", "district", data.district_id)
    return _create_coded(UnitRepository(session), "unit", data)


def update_unit(session: Session, unit_id: int, data: UnitUpdate) -> Unit:
    repo = UnitRepository(session)
    unit = get_or_404(repo, unit_id, "unit")
    changes = data.changes()
    if "district_id" in changes:
        _require_parent(
            DistrictRepository(session), "district_id", "district", changes["district_id"]
        )
    return _update_coded(repo, "unit", unit, changes)


# Branches -----------------------------------------------------------------------------------


def create_branch(session: Session, data: BranchCreate) -> Branch:
    _require_parent(UnitRepository(session), "unit_id", "unit", data.unit_id)
    return _create_coded(BranchRepository(session), "branch", data)


def update_branch(session: Session, branch_id: int, data: BranchUpdate) -> Branch:
    repo = BranchRepository(session)
    branch = get_or_404(repo, branch_id, "branch")
    changes = data.changes()
    if "unit_id" in changes:
        _require_parent(UnitRepository(session), "unit_id", "unit", changes["unit_id"])
    return _update_coded(repo, "branch", branch, changes)


# Members ------------------------------------------------------------------------------------


def _check_member(repo: MemberRepository, member: Member) -> None:
    if member.birth_date and member.joined_on and member.joined_on <= member.birth_date:
        raise InvalidInput.field("joined_on", "must be after birth_date")
    if member.id_number and repo.id_number_taken(member.id_number, other_than=member.id):
        raise DuplicateIdNumber("A member with this ID number is already registered.")


def create_member(session: Session, data: MemberCreate) -> Member:
    _require_parent(BranchRepository(session), "branch_id", "branch", data.branch_id)
    repo = MemberRepository(session)
    member = Member(**data.model_dump(exclude={"categories"}))
    member.set_categories(set(data.categories))
    _check_member(repo, member)
    return repo.add(member)


def update_member(session: Session, member_id: int, data: MemberUpdate) -> Member:
    repo = MemberRepository(session)
    member = get_or_404(repo, member_id, "member")
    changes = data.changes()
    if "categories" in changes:
        member.set_categories(set(changes.pop("categories")))
    for field, value in changes.items():
        setattr(member, field, value)
    _check_member(repo, member)
    session.flush()
    return member


def transfer_member(session: Session, member_id: int, data: MemberTransferCreate) -> MemberTransfer:
    repo = MemberRepository(session)
    member = get_or_404(repo, member_id, "member")
    _require_parent(BranchRepository(session), "branch_id", "branch", data.branch_id)
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
    return move
