"""/metrics and the request log line: by route template, and without personal data."""

import json
import logging
import re

import pytest

from app.logs import JsonFormatter
from tests.org import factories as org

ID_NUMBER = org.id_number()
PHONE = "13812345678"


class _Lines(logging.Handler):
    """Formats each record as it is written, as the server's handler does: the request id
    of the request being served is only known then."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_log():
    """The JSON lines written to app.access and tests.observability during the test."""
    handler = _Lines()
    loggers = [logging.getLogger(n) for n in ("app.access", "tests.observability")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield handler.lines
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def _samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric in the exposition text."""
    out = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match:
            out[match.group(1)] = float(match.group(2))
    return out


def test_metrics_count_requests_by_route_template_and_status(client, anon, session):
    members = [org.member(session) for _ in range(2)]
    for m in members:
        assert client.get(f"/api/v1/members/{m.id}").status_code == 200
    assert client.get("/api/v1/members/999999").status_code == 404
    assert client.get("/no/such/path/123").status_code == 404

    r = anon.get("/metrics")  # public, like /healthz: it holds no personal data
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    counts = _samples(r.text, "http_requests_total")
    route = 'route="/api/v1/members/{member_id}"'
    assert counts[f'method="GET",{route},status="200"'] == 2
    assert counts[f'method="GET",{route},status="404"'] == 1
    assert counts['method="GET",route="<unmatched>",status="404"'] == 1
    # No raw path in any label: not one id, not the unknown path.
    assert not any(f"members/{m.id}" in labels for m in members for labels in counts)
    assert "/no/such/path" not in r.text

    buckets = _samples(r.text, "http_request_duration_seconds_bucket")
    assert buckets[f'le="+Inf",method="GET",{route},status="200"'] == 2
    assert len([b for b in buckets if route in b and 'status="200"' in b]) > 5


def test_metrics_show_the_database_pool(client, engine):
    text = client.get("/metrics").text
    checked_out = re.search(r"^db_pool_checked_out (\S+)$", text, re.M)
    size = re.search(r"^db_pool_size (\S+)$", text, re.M)
    assert checked_out and size
    # Read at scrape time: the scrape itself holds no connection, and the pool is the app's.
    assert float(checked_out.group(1)) == engine.pool.checkedout() == 0
    assert float(size.group(1)) == engine.pool.size()


def test_one_json_line_per_request_with_ids_route_status_and_no_personal_data(
    client, session, city_admin, json_log
):
    m = org.member(session, id_number=ID_NUMBER, phone=PHONE)
    r = client.get(f"/api/v1/members/{m.id}")
    searched = client.get("/api/v1/members", params={"q": ID_NUMBER})
    patched = client.patch(f"/api/v1/members/{m.id}", json={"phone": "13900001111"})
    assert r.status_code == searched.status_code == patched.status_code == 200
    lines = [json.loads(line) for line in json_log]
    assert len(lines) == 3

    read = lines[0]
    assert read["message"] == "request"
    assert read["request_id"] == r.headers["x-request-id"]
    assert read["user_id"] == city_admin.id
    assert read["method"] == "GET"
    assert read["route"] == "/api/v1/members/{member_id}"
    assert read["status"] == 200
    assert isinstance(read["duration_ms"], float) and read["duration_ms"] >= 0
    assert {"ts", "level", "logger"} <= read.keys()
    assert lines[1]["route"] == "/api/v1/members" and lines[2]["method"] == "PATCH"

    everything = "\n".join(json_log)
    for secret in (ID_NUMBER, PHONE, "13900001111", "q=", f"/members/{m.id}"):
        assert secret not in everything, secret


def test_a_refused_token_is_logged_without_a_user(anon, json_log):
    anon.get("/api/v1/units", headers={"Authorization": "Bearer not-a-token"})
    line = json.loads(json_log[-1])
    assert (line["status"], line["user_id"], line["route"]) == (401, None, "/api/v1/units")
    assert "not-a-token" not in json_log[-1]


def test_other_log_lines_carry_the_request_id_they_were_written_under(client, json_log):
    logger = logging.getLogger("tests.observability")

    @client.app.get("/log-for-test", include_in_schema=False)
    def log_something() -> dict:
        logger.warning("something happened")
        return {}

    r = client.get("/log-for-test")
    line = next(json.loads(x) for x in json_log if '"tests.observability"' in x)
    assert line["request_id"] == r.headers["x-request-id"]
    assert (line["level"], line["message"]) == ("WARNING", "something happened")
