"""Who is calling: role and scope. Imports nothing from the domains, so they can all use it."""

from dataclasses import dataclass, field
from enum import StrEnum

from app.errors import Forbidden
from app.labels import LabelledEnum


class Role(LabelledEnum):
    city_admin = "city_admin", "市委组织部"
    district_admin = "district_admin", "县区管理员"
    unit_admin = "unit_admin", "单位管理员"
    branch_secretary = "branch_secretary", "支部书记"
    inspector = "inspector", "督导组成员"


class Action(StrEnum):
    """What a role may do inside its scope (DESIGN.md, "Users and what they may touch")."""

    write_district = "write_district"
    write_unit = "write_unit"
    write_branch = "write_branch"
    write_member = "write_member"
    manage_users = "manage_users"
    read_audit = "read_audit"
    write_campaign = "write_campaign"  # campaigns, batches, windows, requirements
    enrol_units = "enrol_units"
    advance_unit = "advance_unit"
    override_gate = "override_gate"  # advance a unit whose look-back failed, with a reason
    exempt_member = "exempt_member"
    record_session = "record_session"  # create sessions, write their attendance
    edit_session = "edit_session"  # change or delete a recorded session
    write_rectification = "write_rectification"  # open, edit and work on rectification items
    verify_rectification = "verify_rectification"  # accept (or send back) a done item
    record_inspection = "record_inspection"  # a supervision team's visit and its findings
    write_standard = "write_standard"  # a new version of a unit's concrete standard
    record_evaluation = "record_evaluation"  # a branch's democratic evaluations (民主评议)
    mark_weak_branch = "mark_weak_branch"  # mark a branch weak, with its consolidation plan


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.city_admin: frozenset(Action),
    Role.district_admin: frozenset(
        {
            Action.write_unit,
            Action.write_branch,
            Action.write_member,
            Action.manage_users,
            Action.read_audit,
            Action.enrol_units,
            Action.advance_unit,
            Action.override_gate,
            Action.exempt_member,
            Action.record_session,
            Action.edit_session,
            Action.write_rectification,
            Action.verify_rectification,
            Action.record_inspection,
            Action.write_standard,
            Action.record_evaluation,
            Action.mark_weak_branch,
        }
    ),
    Role.unit_admin: frozenset(
        {
            Action.write_branch,
            Action.write_member,
            Action.advance_unit,
            Action.exempt_member,
            Action.record_session,
            Action.edit_session,
            Action.write_rectification,
            Action.write_standard,
            Action.record_evaluation,
        }
    ),
    Role.branch_secretary: frozenset({Action.write_member, Action.record_session}),
    Role.inspector: frozenset({Action.verify_rectification, Action.record_inspection}),
}


@dataclass(frozen=True)
class Principal:
    """The caller. Lower scopes carry the ids above them (a secretary's unit and district),
    read fresh on every request, so that scope filters are single comparisons."""

    user_id: int | None
    username: str
    role: Role
    district_id: int | None = None
    unit_id: int | None = None
    branch_id: int | None = None
    # Inspectors: the units assigned to them, and the districts those lie in.
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    district_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_city(self) -> bool:
        return self.role is Role.city_admin

    @property
    def sees_personal_data(self) -> bool:
        return self.role is Role.city_admin

    def may(self, action: Action) -> bool:
        return action in _ALLOWED[self.role]

    def require(self, action: Action) -> None:
        if not self.may(action):
            raise Forbidden(f"A {self.role.value} may not {action.value.replace('_', ' ')}.")


# Commands and background work act with the whole city's reach.
SYSTEM = Principal(user_id=None, username="system", role=Role.city_admin)
