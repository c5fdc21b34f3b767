"""Limits and headers: paging bounds, query text, the statement timeout, security headers,
CSP, CORS."""

import base64
import hashlib
import re
import time

import pytest
import sqlalchemy as sa
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from app.config import get_settings
from app.db import SessionDep, create_db_engine, create_request_engine
from app.headers import API_POLICY, PAGE_POLICY
from app.main import create_app
from tests.test_http import assert_problem

ORIGIN = "https://m.example.cn"


def _assert_secured(response, policy: str | None = API_POLICY) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    if policy is not None:
        assert response.headers["content-security-policy"] == policy


def test_offset_is_bounded_like_an_id(client):
    body = assert_problem(client.get("/api/v1/units?offset=9223372036854775808"), 422)
    assert body["errors"][0]["loc"] == ["query", "offset"]
    assert client.get("/api/v1/units?offset=100000").json()["items"] == []


def test_a_control_character_in_a_query_parameter_is_a_422_naming_it(client, anon):
    """Held to the rule of body text on every route: PostgreSQL answered a NUL in ?q= with a
    422 naming no field, SQLite searched for it."""
    refused = {
        "loc": ["query", "q"],
        "msg": "Value error, must not contain control characters",
        "type": "value_error",
    }
    for path in ("/api/v1/users", "/api/v1/members", "/api/v1/units"):
        for value in ("ab\x00c", "ab\x01c"):
            body = assert_problem(client.get(path, params={"q": value}), 422)
            assert body["errors"] == [refused], body
    r = client.get("/api/v1/audit", params={"entity": "user", "action": "up\x00date"})
    assert assert_problem(r, 422)["errors"] == [refused | {"loc": ["query", "action"]}]
    assert client.get("/api/v1/members", params={"q": "a\tb"}).status_code == 200
    # Without a token, the answer is "log in", whatever the query.
    assert_problem(anon.get("/api/v1/members", params={"q": "a\x00b"}), 401)


def test_every_kind_of_answer_carries_the_security_headers(client, anon):
    _assert_secured(client.get("/api/v1/units"))  # JSON
    _assert_secured(anon.get("/api/v1/units"))  # 401 problem
    _assert_secured(client.get("/api/v1/units/999999"))  # 404 problem
    _assert_secured(client.get("/api/v1/members?format=csv"))  # streamed export
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    r = client.post("/api/v1/districts", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413  # refused by the middleware before any route
    _assert_secured(r)


def test_a_body_over_the_limit_without_a_length_is_refused_as_too_large(client):
    """A chunked body declares no length: it is counted as it arrives, and refused with the
    same 413 once past the limit, whoever reads it (FastAPI answers any error while reading
    a body as a 400)."""

    def chunks():
        yield b'{"code": "D999", "name": "'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}'

    r = client.post(
        "/api/v1/districts", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    body = assert_problem(r, 413)
    assert body["type"].endswith("payload-too-large")
    _assert_secured(r)
    assert client.get("/api/v1/districts").json()["total"] == 0


def test_an_html_page_without_a_policy_of_its_own_may_style_itself_only(app, anon):
    @app.get("/page-for-test", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse("<html><style>p{color:red}</style><p>公报</p></html>")

    r = anon.get("/page-for-test")
    _assert_secured(r, PAGE_POLICY)
    assert "script-src" not in PAGE_POLICY and "default-src 'none'" in PAGE_POLICY


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("page", ["/docs", "/docs/oauth2-redirect", "/redoc"])
def test_docs_load_only_local_assets_and_their_own_hashed_inline_script(anon, page):
    r = anon.get(page)
    assert r.status_code == 200
    _assert_secured(r, policy=None)
    policy = r.headers["content-security-policy"]
    scripts = re.search(r"script-src ([^;]+);", policy).group(1).split()
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    # 'self' and exactly the page's inline scripts: nothing from another origin, no
    # 'unsafe-inline' and no 'unsafe-eval' for scripts.
    assert sorted(scripts) == sorted(["'self'", *(_sha256(s) for s in inline)])
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert all(u.startswith("/") for u in urls), urls
    for url in urls:  # every asset the page names is served here
        asset = anon.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in {
            "text/css",
            "text/javascript",
            "application/javascript",
            "image/png",
        }


def test_swagger_ui_bootstrap_points_at_this_apps_openapi_and_redirect(anon):
    html = anon.get("/docs").text
    assert "url: '/openapi.json'" in html
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in html


def test_cors_is_off_by_default(anon):
    preflight = anon.options(
        "/api/v1/units",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    r = anon.get("/healthz", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in r.headers


@pytest.fixture
def cors_app(engine, monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", f"{ORIGIN}, https://h5.example.cn")
    get_settings.cache_clear()
    try:
        yield create_app(engine)
    finally:
        get_settings.cache_clear()


def test_cors_answers_the_configured_origins_only(cors_app, client):
    with TestClient(cors_app) as http:
        ok = http.options(
            "/api/v1/sessions",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ORIGIN
        assert "idempotency-key" in ok.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in ok.headers  # bearer tokens only
        other = http.options(
            "/api/v1/sessions",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        # A real request: the answer names the origin and exposes the request id.
        r = http.get("/api/v1/units", headers={"Origin": ORIGIN, **dict(client.headers)})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in r.headers["access-control-expose-headers"].lower()


def _on_postgres(engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_the_apps_engine_carries_the_statement_timeout(engine, migrated_url, monkeypatch):
    if not _on_postgres(engine):
        pytest.skip("statement_timeout is PostgreSQL's")
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", "1234")
    get_settings.cache_clear()
    try:
        request_engine = create_request_engine()
    finally:
        get_settings.cache_clear()
    try:
        with request_engine.connect() as conn:
            assert conn.scalar(sa.text("SHOW statement_timeout")) == "1234ms"
    finally:
        request_engine.dispose()
    # The command line's engine (migrations, the demo, imports) has none.
    cli_engine = create_db_engine(migrated_url)
    try:
        with cli_engine.connect() as conn:
            assert conn.scalar(sa.text("SHOW statement_timeout")) == "0"
    finally:
        cli_engine.dispose()


def test_a_slow_statement_is_cancelled_and_answered_503(engine, migrated_url):
    if not _on_postgres(engine):
        pytest.skip("statement_timeout is PostgreSQL's")
    slow_engine = create_db_engine(migrated_url, statement_timeout_ms=300)
    app = create_app(slow_engine)

    @app.get("/slow-for-test", include_in_schema=False)
    def slow(session: SessionDep) -> dict:
        session.execute(sa.text("SELECT pg_sleep(30)"))
        return {}

    try:
        with TestClient(app) as http:
            started = time.monotonic()
            r = http.get("/slow-for-test")
            took = time.monotonic() - started
            body = assert_problem(r, 503)
            assert body["type"] == "urn:campaign:problem:query-timeout"
            assert r.headers["retry-after"] == "5"
            assert took < 5, took  # the worker is free long before the sleep would end
            # The connection went back to the pool fit for use.
            assert http.get("/readyz").status_code == 200
            assert slow_engine.pool.checkedout() == 0
    finally:
        slow_engine.dispose()


def test_an_export_the_database_refuses_is_refused_before_it_streams(client):
    # An id past PostgreSQL's integer (district ids are 32-bit there) in a filter.
    r = client.get("/api/v1/members", params={"district_id": 2**40, "format": "csv"})
    if r.status_code == 200:  # SQLite compares any integer: simply nothing matches
        assert r.text.count("\n") == 1
    else:
        assert_problem(r, 422)
