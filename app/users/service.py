"""Rules of user management. City admins manage everyone; a district admin manages the unit
admins, branch secretaries and inspectors of their own district."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth import attempts
from app.auth.models import User
from app.auth.passwords import hash_password, verify_password
from app.auth.principal import Action, Principal, Role
from app.auth.principals import district_of_user
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, UnknownReference
from app.org.models import Branch, District, Unit
from app.org.repository import BranchRepository, DistrictRepository, UnitRepository
from app.pagination import Page, PageParams, paginate_batch
from app.users.repository import UserRepository
from app.users.schemas import PasswordChange, UserCreate, UserRead, UserUpdate

USER_FIELDS = ("username", "display_name", "role", "district_id", "unit_id", "branch_id")
SCOPE_FIELDS = ("district_id", "unit_id", "branch_id", "unit_ids")

# The scope field each role needs; the others must be empty.
_SCOPE_OF_ROLE: dict[Role, str | None] = {
    Role.city_admin: None,
    Role.district_admin: "district_id",
    Role.unit_admin: "unit_id",
    Role.branch_secretary: "branch_id",
    Role.inspector: "unit_ids",
}
_GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.city_admin: frozenset(Role),
    Role.district_admin: frozenset({Role.unit_admin, Role.branch_secretary, Role.inspector}),
}


class DuplicateUsername(Conflict):
    type, title = "duplicate-username", "Username already taken"


def user_read(repo: UserRepository, user: User) -> UserRead:
    return read_many(repo, [user])[0]


def read_many(repo: UserRepository, users: list[User]) -> list[UserRead]:
    unit_ids = repo.unit_ids([u.id for u in users])
    return [UserRead.model_validate({**u.model_dump(), "unit_ids": unit_ids[u.id]}) for u in users]


def list_users(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    q: str | None,
    role: Role | None,
    active: bool | None,
) -> Page[UserRead]:
    principal.require(Action.manage_users)
    repo = UserRepository(session, principal)
    stmt = repo.search(q, role, active)
    return paginate_batch(session, stmt, page, lambda found: read_many(repo, found))


def get_or_404(repo: UserRepository, user_id: int) -> User:
    user = repo.get(user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _require_grantable(principal: Principal, role: Role) -> None:
    if role not in _GRANTABLE.get(principal.role, frozenset()):
        raise Forbidden(f"A {principal.role.value} may not manage {role.value} accounts.")


def _check_scope(session: Session, principal: Principal, role: Role, scope: dict) -> None:
    """The role's scope field is given, the others are empty, and it lies in the caller's
    own scope (outside it, the object does not exist for them: 422 unknown reference)."""
    needed = _SCOPE_OF_ROLE[role]
    for field in SCOPE_FIELDS:
        given = scope.get(field)
        if field == needed and not given:
            raise InvalidInput.field(field, f"required for the role {role.value}")
        if field != needed and given:
            raise InvalidInput.field(field, f"must be empty for the role {role.value}")
    if needed == "district_id":
        repo = DistrictRepository(session, principal)
        if not repo.exists(scope["district_id"]):
            raise UnknownReference.to("district_id", "district", scope["district_id"])
    elif needed == "unit_id":
        if not UnitRepository(session, principal).exists(scope["unit_id"]):
            raise UnknownReference.to("unit_id", "unit", scope["unit_id"])
    elif needed == "branch_id":
        if not BranchRepository(session, principal).exists(scope["branch_id"]):
            raise UnknownReference.to("branch_id", "branch", scope["branch_id"])
    elif needed == "unit_ids":
        units = UnitRepository(session, principal)
        for index, unit_id in enumerate(scope["unit_ids"]):
            if not units.exists(unit_id):
                raise InvalidInput.unknown_items("unit_ids", "unit", [(index, unit_id)])


def _require_whole_team_inside(session: Session, principal: Principal, unit_ids: list[int]) -> None:
    """An inspection team spanning districts is seen by each district admin concerned, but
    only the city manages it."""
    units = UnitRepository(session, principal)
    if any(not units.exists(u) for u in unit_ids):
        raise Forbidden("This inspector also covers units outside your district.")


def _snapshot(user: User, unit_ids: list[int]) -> dict[str, Any]:
    return {
        **audit.snapshot(user, USER_FIELDS),
        "unit_ids": sorted(unit_ids),
        "active": user.is_active,
    }


def create_user(session: Session, principal: Principal, data: UserCreate) -> User:
    principal.require(Action.manage_users)
    _require_grantable(principal, data.role)
    scope = data.model_dump(include=set(SCOPE_FIELDS))
    _check_scope(session, principal, data.role, scope)
    repo = UserRepository(session, principal)
    if repo.username_taken(data.username):
        raise DuplicateUsername(f"The username {data.username!r} is taken.")
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role.value,
        district_id=data.district_id,
        unit_id=data.unit_id,
        branch_id=data.branch_id,
        password_hash=hash_password(data.password),
    )
    session.add(user)
    session.flush()
    unit_ids = sorted(set(data.unit_ids or ()))
    repo.set_unit_ids(user.id, unit_ids)
    audit.record(
        session,
        principal,
        "create",
        "user",
        user.id,
        district_id=district_of_user(session, user),
        after=_snapshot(user, unit_ids),
    )
    return user


def update_user(session: Session, principal: Principal, user_id: int, data: UserUpdate) -> User:
    repo = UserRepository(session, principal)
    user = get_or_404(repo, user_id)
    principal.require(Action.manage_users)
    _require_grantable(principal, Role(user.role))
    changes = data.changes()
    old_units = repo.unit_ids([user.id], visible_only=False)[user.id]
    _require_whole_team_inside(session, principal, old_units)
    before = _snapshot(user, old_units)
    # A move to another district is written in both, as member and unit moves are.
    district_before = district_of_user(session, user)
    if user.id == principal.user_id and ({"role", "is_active"} & changes.keys()):
        raise Conflict("You cannot change your own role or deactivate yourself.")

    scope_changed = "role" in changes or bool(set(SCOPE_FIELDS) & changes.keys())
    unit_ids = old_units
    if scope_changed:
        role = changes.get("role", Role(user.role))
        _require_grantable(principal, role)
        # A new role starts from an empty scope: its scope field comes with it.
        current = {"district_id": user.district_id, "unit_id": user.unit_id}
        current |= {"branch_id": user.branch_id, "unit_ids": old_units}
        scope = {f: changes.get(f) for f in SCOPE_FIELDS}
        if "role" not in changes:
            scope = {f: changes[f] if f in changes else current[f] for f in SCOPE_FIELDS}
        _check_scope(session, principal, role, scope)
        user.role = role.value
        user.district_id, user.unit_id, user.branch_id = (
            scope["district_id"],
            scope["unit_id"],
            scope["branch_id"],
        )
        unit_ids = sorted(set(scope["unit_ids"] or ()))
        repo.set_unit_ids(user.id, unit_ids)

    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "is_active" in changes:
        user.is_active = changes["is_active"]
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    # Any change of who the user is or what they may reach voids the tokens they hold.
    if scope_changed or "password" in changes or changes.get("is_active") is False:
        user.token_version += 1
    session.flush()

    after = _snapshot(user, unit_ids)
    if "password" in changes:
        before["password"], after["password"] = "(old)", "(changed)"
    deactivated = before["active"] and not user.is_active
    audit.record(
        session,
        principal,
        "deactivate" if deactivated else "update",
        "user",
        user.id,
        district_id=district_of_user(session, user),
        also_district_id=district_before,
        before=before,
        after=after,
    )
    return user


def change_own_password(session: Session, principal: Principal, data: PasswordChange) -> User:
    """Counted like logins: a stolen token must not become unlimited guesses at the password."""
    attempts.reserve(session, principal.username)
    user = session.get(User, principal.user_id)
    if user is None or not verify_password(data.current_password, user.password_hash):
        audit.record(
            session,
            principal,
            "password_change_failed",
            "user",
            principal.user_id,
            district_id=user and district_of_user(session, user),
        )
        # The request fails and its session rolls back, yet the failure must still count.
        session.commit()
        raise InvalidInput.field("current_password", "is not your current password")
    attempts.succeeded(session, principal.username)
    user.password_hash = hash_password(data.new_password)
    user.token_version += 1
    session.flush()
    audit.record(
        session,
        principal,
        "password_change",
        "user",
        user.id,
        district_id=district_of_user(session, user),
    )
    return user


def scope_from_codes(
    session: Session,
    role: Role,
    *,
    district: str | None = None,
    units: list[str] | None = None,
    branch: str | None = None,
) -> dict[str, Any]:
    """Scope ids from the codes people know (the command line's --district/--unit/--branch).
    One unit is a unit admin's scope; several (or one) are an inspector's."""
    lookups = {"district_id": (District, district), "branch_id": (Branch, branch)}
    scope: dict[str, Any] = {}
    for field, (model, code) in lookups.items():
        if code is not None:
            scope[field] = _id_of_code(session, model, code, field)
    if units:
        ids = [_id_of_code(session, Unit, code, "unit_id") for code in units]
        if role is Role.inspector:
            scope["unit_ids"] = ids
        elif len(ids) == 1:
            scope["unit_id"] = ids[0]
        else:
            raise InvalidInput.field("unit_id", f"a {role.value} has one unit")
    return scope


def _id_of_code(session: Session, model: Any, code: str, field: str) -> int:
    found = session.scalar(sa.select(model.id).where(model.code == code))
    if found is None:
        raise InvalidInput.field(field, f"no {model.__tablename__} with code {code!r}")
    return found
