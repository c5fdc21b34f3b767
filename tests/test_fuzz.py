"""API fuzzing: schemathesis drives every operation of the app's own /openapi.json, in-process.

Each operation runs as a city admin (the coverage phase: every field's boundary and invalid
values; then random cases) and as a branch secretary (random cases), each time against a
fresh small world (two districts, their units, branches, members, a batch in study, a
session, a rectification item, an inspection) and with a token from the real login. Every
schemathesis check runs: no 5xx, status codes, headers and bodies as documented, invalid
input refused, a missing or wrong token refused. Cases are derandomised (a fixed seed, no
example database), so CI sends the same requests on every run.

Generated ids seldom name a row, so a positive case's path ids are mapped onto the world's
own half of the time (by the id's parity): both the found and the not-found branches run.
"""

import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any, get_args

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from pydantic_core.core_schema import ErrorType
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.openapi.checks import RejectedPositiveData

from app.auth.principal import Role
from app.main import create_app
from tests.auth import factories as auth
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.rectification import factories as rectification
from tests.study import factories as study


def _config(*, coverage: bool, max_examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 2005,
            "phases": {"coverage": {"enabled": coverage}},
            "generation": {
                "mode": "all",  # positive and negative
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
        }
    )


# Built once for its OpenAPI document; each test points it at the test database.
APP = create_app(sa.create_engine("sqlite://"))
# The city admin's run adds the coverage phase: every field's boundary and invalid values,
# thousands of deterministic cases. Validation comes before any role's rights, so the
# secretary's run would repeat them; it draws random cases (fuzzing phase) only, more of them.
as_admin = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, config=_config(coverage=True, max_examples=5)
)
as_secretary = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, config=_config(coverage=False, max_examples=25)
)


# The current test's world, by path parameter name; read by the map_case hook.
WORLD: dict[str, list[Any]] = {}
_KEYS = itertools.count(1)
CASES: Counter[str] = Counter()
EXCUSED: Counter[str] = Counter()
OPERATIONS: set[str] = set()
# pydantic's own error types, but for those its custom validators raise.
PARSER_ERRORS = frozenset(get_args(ErrorType)) - {"value_error", "assertion_error"}


def _build_world(session) -> dict[str, list[Any]]:
    """Two districts with one unit each, two branches per unit, members, a batch in study, a
    session, a rectification item, an inspection and a unit admin per unit."""
    batch = campaign.batch(session, min_hours=0)
    ids: dict[str, list[Any]] = {
        k: []
        for k in (
            "district_id",
            "unit_id",
            "branch_id",
            "member_id",
            "user_id",
            "session_id",
            "item_id",
            "inspection_id",
        )
    }
    for _ in range(2):
        d = org.district(session)
        u = org.unit(session, d.id)
        branches = [org.branch(session, u.id) for _ in range(2)]
        members = [org.member(session, b.id) for b in branches for _ in range(2)]
        campaign.enrol(session, u.id, batch.id, "study")
        ids["district_id"].append(d.id)
        ids["unit_id"].append(u.id)
        ids["branch_id"] += [b.id for b in branches]
        ids["member_id"] += [m.id for m in members]
        ids["session_id"].append(
            str(study.study_session(session, branches[0].id, u.id, batch.id).id)
        )
        ids["item_id"].append(rectification.item(session, u.id, branch_id=branches[0].id).id)
        ids["inspection_id"].append(rectification.inspection(session, u.id).id)
        ids["user_id"].append(auth.user(session, Role.unit_admin, unit_id=u.id).id)
    ids["campaign_id"] = [batch.campaign_id]
    ids["batch_id"] = [batch.id]
    return ids


def _log_in(app, username: str) -> dict[str, str]:
    with TestClient(app) as http:
        r = http.post("/api/v1/auth/token", data={"username": username, "password": auth.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module", autouse=True)
def _counts(request):
    """The counts for the record: operations run, cases sent, failures excused as rules."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CASES:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"\nfuzz: {len(OPERATIONS)} operation runs, {sum(CASES.values())} cases "
            f"({', '.join(f'{k}: {v}' for k, v in sorted(CASES.items()))}); "
            f"{sum(EXCUSED.values())} schema-valid requests refused by a rule"
        )
        for what, n in EXCUSED.most_common(10):
            reporter.write_line(f"  {n:4} x {what}")


@pytest.fixture
def fuzz_app(engine):
    APP.state.engine = engine
    yield APP


@pytest.fixture
def world(session) -> Iterator[dict[str, list[Any]]]:
    WORLD.update(_build_world(session))
    yield WORLD
    WORLD.clear()


@pytest.fixture
def as_city_admin(fuzz_app, session, world) -> dict[str, str]:
    auth.user(session, Role.city_admin, username="fuzz_city_admin")
    return _log_in(fuzz_app, "fuzz_city_admin")


@pytest.fixture
def as_branch_secretary(fuzz_app, session, world) -> dict[str, str]:
    branch_id = world["branch_id"][0]
    auth.user(session, Role.branch_secretary, branch_id=branch_id, username="fuzz_sec")
    return _log_in(fuzz_app, "fuzz_sec")


def _existing(name: str, value: Any) -> Any:
    known = WORLD.get(name)
    if not known:
        return value
    if name == "session_id":
        try:
            pick = uuid.UUID(str(value)).int
        except ValueError:
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        pick = value
    else:
        return value
    return known[(pick // 2) % len(known)] if pick % 2 == 0 else value


def _negative_at(case, location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def map_case(context, case):
    if case.path_parameters and not _negative_at(case, ParameterLocation.PATH):
        case.path_parameters = {k: _existing(k, v) for k, v in case.path_parameters.items()}
    # A client sends a new key with each new request; generated keys repeat ("0"), and the
    # same key with another body is refused (422) before the route runs at all.
    if "idempotency-key" in case.headers and not _negative_at(case, ParameterLocation.HEADER):
        case.headers["idempotency-key"] = f"fuzz-{next(_KEYS)}"
    return case


def filter_failure(context, failure, case, response) -> bool:
    """A schema-valid request may still break a rule that no schema states: an id naming
    nothing the caller can reach, ends_on before starts_on, a wrong current password. Those
    422s come from our own validators and services (``value_error`` or a type of ours) and
    are excused; a pydantic constraint error (too long, out of range, not a decimal) on
    schema-valid input means the schema and the model disagree, and stays a failure."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 422:
        return True
    problem = response.json()
    kinds = {e.get("type") for e in problem.get("errors", ())}
    if kinds & PARSER_ERRORS:
        return True
    EXCUSED[f"{case.operation.label}: {problem.get('detail')}"[:160]] += 1
    return False


for _schema in (as_admin, as_secretary):
    _schema.hook(map_case)
    _schema.hook(filter_failure)


def _run(case, app, headers: dict[str, str], role: str) -> None:
    mode = case.meta.generation.mode if case.meta else GenerationMode.POSITIVE
    CASES[f"{role} {case.meta.phase.name.value if case.meta else '-'} {mode.value}"] += 1
    OPERATIONS.add(f"{role} {case.operation.label}")
    case.call_and_validate(headers=headers, app=app)


# The fixtures hold the world and the token for all of an operation's cases, on purpose.
FIXTURES_PER_OPERATION = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@as_admin.parametrize()
@FIXTURES_PER_OPERATION
def test_fuzz_as_city_admin(case, fuzz_app, as_city_admin):
    _run(case, fuzz_app, as_city_admin, "city_admin")


@as_secretary.parametrize()
@FIXTURES_PER_OPERATION
def test_fuzz_as_branch_secretary(case, fuzz_app, as_branch_secretary):
    _run(case, fuzz_app, as_branch_secretary, "branch_secretary")
