"""The HTTP skeleton: health, readiness, problem+json errors, request ids, paging, OpenAPI."""

import pytest
from fastapi.testclient import TestClient

from app.db import create_db_engine
from app.main import create_app
from tests.databases import fresh_database
from tests.org import factories

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:campaign:problem:")
    assert body["title"]
    assert "detail" in body
    return body


def test_healthz_and_readyz_on_a_migrated_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_when_the_schema_is_not_migrated():
    with fresh_database() as url:
        engine = create_db_engine(url)
        try:
            with TestClient(create_app(engine)) as c:
                body = assert_problem(c.get("/readyz"), 503)
        finally:
            engine.dispose()
    assert "campaign migrate" in body["detail"]


def test_unknown_path_and_wrong_method_are_problems(client):
    assert_problem(client.get("/api/v1/nowhere"), 404)
    body = assert_problem(client.delete("/api/v1/districts"), 405)
    assert body["title"] == "Method Not Allowed"


def test_validation_error_lists_each_bad_field(client):
    body = assert_problem(client.post("/api/v1/units", json={"code": "", "kind": "castle"}), 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert {("body", "code"), ("body", "kind"), ("body", "name"), ("body", "district_id")} <= locs
    assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])


def test_malformed_json_is_422(client):
    r = client.post(
        "/api/v1/districts", content=b'{"code": "X"', headers={"content-type": "application/json"}
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["type"] == "json_invalid"


def test_unhandled_error_is_a_500_problem_without_stack_trace(engine):
    app = create_app(engine)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals at line 42")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"X-Request-ID": "trace-me-1"})
    body = assert_problem(r, 500)
    assert "secret internals" not in r.text
    assert "Traceback" not in r.text
    assert r.headers["X-Request-ID"] == "trace-me-1"
    assert "trace-me-1" in body["detail"]


def test_request_id_is_echoed_or_made(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    # An id that could smuggle text into logs is replaced, not echoed.
    assert (
        client.get("/healthz", headers={"X-Request-ID": "a b\tc"}).headers["X-Request-ID"]
        != "a b\tc"
    )
    assert "X-Request-ID" in client.get("/api/v1/nowhere").headers


def test_pagination_defaults_bounds_and_totals(client, session):
    d = factories.district(session)
    for _ in range(3):
        factories.unit(session, district_id=d.id)
    page = client.get("/api/v1/units").json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 50, 0, 3)
    page = client.get("/api/v1/units?limit=2&offset=2").json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 2, 1)
    assert client.get("/api/v1/units?limit=500").status_code == 200
    body = assert_problem(client.get("/api/v1/units?limit=501"), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert_problem(client.get("/api/v1/units?offset=-1"), 422)


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


def test_every_operation_has_unique_readable_id_summary_and_documented_problems(openapi):
    seen = set()
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            op_id = op["operationId"]
            assert op_id not in seen, op_id
            seen.add(op_id)
            assert op_id.isidentifier() and "_api_v1" not in op_id, op_id
            assert op.get("summary"), f"{method} {path} has no summary"
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == [PROBLEM], f"{method} {path} {status}"
                elif status != "204":
                    # A generated client reads the answer only where the document says
                    # what it holds.
                    assert response.get("content"), f"{method} {path} {status} has no body"
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in op["responses"], f"{method} {path} documents no 422"
            if "{" in path:
                assert "404" in op["responses"], f"{method} {path} documents no 404"
            if any(p["name"].lower() == "idempotency-key" for p in op.get("parameters", ())):
                # The same key while its first request runs answers 409 (DESIGN.md).
                assert "409" in op["responses"], f"{method} {path} documents no 409"
            if op.get("security"):
                # A generated client learns to send the token and what a refusal looks like.
                assert op["security"] == [{"OAuth2PasswordBearer": []}], f"{method} {path}"
                assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
            elif not path.startswith(("/healthz", "/readyz", "/metrics", "/api/v1/auth/token")):
                raise AssertionError(f"{method} {path} needs no token")
    token = openapi["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "Retry-After" in token["429"]["headers"]


def test_docs_page_is_served(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()
