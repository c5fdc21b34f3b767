"""What a route's rule is (route_rules.py gathers them): the roles that succeed and how to
build the request against one side of the test world; the role groups the rules name; and
the serial that keeps the codes and names the requests send unique."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.auth.principal import Role

R = Role
ALL = frozenset(Role)
CAMPAIGN_WRITERS = frozenset({R.city_admin})
ADVANCERS = frozenset({R.city_admin, R.district_admin, R.unit_admin})
RECORDERS = ADVANCERS | {R.branch_secretary}
RECTIFIERS = ADVANCERS
INSPECTORS = frozenset({R.city_admin, R.district_admin, R.inspector})

# One counter for all the rule modules, so that no two requests send the same code,
# username or standard version, whichever module built them.
serial = itertools.count(1)


@dataclass
class Side:
    """One district's objects: the callers' own ("in") or another district's ("out")."""

    district_id: int
    unit_id: int
    branch_id: int
    other_branch_id: int  # same unit
    member_id: int
    user_id: int  # a branch secretary of this side
    campaign_id: int  # the campaign and batch both sides' units are enrolled in
    batch_id: int
    session_id: str  # a study session of the branch


@dataclass(frozen=True)
class Rule:
    """kind: list (no object), read/update (an object in the path), create (a parent in the
    body). ``allowed`` roles succeed inside their scope; the others get 403, or the status
    in ``inside`` when the object is not theirs to see at all (e.g. other users)."""

    kind: str
    allowed: frozenset[Role]
    ok: int = 200
    params: Callable[[Any, Side], dict[str, int]] = lambda s, side: {}
    body: Callable[[Any, Side], dict[str, Any]] | None = None
    inside: dict[Role, int] = field(default_factory=dict)
    # A multipart upload: the form's files, sent instead of a JSON body.
    files: Callable[[Any, Side], dict[str, Any]] | None = None


def side_ids(name: str) -> Callable[[Any, Side], dict[str, Any]]:
    """A rule's path parameter taken from the side as it is: ``side_ids("unit_id")`` puts
    the side's unit in ``{unit_id}``."""
    return lambda s, side: {name: getattr(side, name)}


def new_code() -> str:
    return f"M{next(serial):06d}"
