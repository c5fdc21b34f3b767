"""Benchmark of the reports through the API against raw SQL over the totals and a naive GROUP BY.

    python bench/reports.py [--scales 1 10] [--databases sqlite postgresql] [--repeat 7]

For each database and scale: a fresh database migrated with Alembic and seeded with the
demo (``seed_demo``, as ``campaign demo`` does). Then, on that database:

- **API**: ``GET /api/v1/reports/coverage?level=city|district|unit|branch`` and ``GET
  /api/v1/reports/gaps?branch_id=…&limit=500`` (the largest branch of a unit in study: a
  secretary's phone) through the app in process (``TestClient`` against ``create_app``, as
  a city admin), from request to the whole JSON answer: token check, queries, shaping,
  serialisation. A ``floor`` row gives ``GET /api/v1/auth/me``.
- **(a) raw totals**: the same figures in hand-written SQL over the running totals, the
  members' (``member_study_total``) and the branches' sessions (``branch_session_total``):
  for coverage one GROUP BY for the member figures and one for the session figures, for
  gaps one statement (bench/reports_sql.py); run with the app engine's DBAPI connection
  (sqlite3 or psycopg, the same SQLite pragmas) and every row fetched.
- **(b) naive**: the same statements with the totals replaced by GROUP BYs over every
  attendance row (joined to its session) and every session: what a report costs without
  the running totals.

Each figure is the median of ``--repeat`` calls after one untimed call. The three sides'
answers are compared (members, participated, met hours, sessions, formats and lectures per
row; the gap list's members in order), so that the timings compare equal work.
"""

import argparse
import gc
import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.principal import Role
from app.clock import today
from app.config import get_settings
from app.db import create_db_engine
from app.demo import DEFAULT_SEED, seed_demo
from app.main import create_app, tune_collector
from app.study.member_view import INACTIVE_AFTER
from bench.reports_sql import (
    LEVELS,
    NAIVE_TOTALS,
    TOTALS,
    coverage_sql,
    gaps_sql,
    largest_branch,
)
from tests.auth import factories
from tests.databases import migrated_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Targets (issue 8), judged at scale 10.
WITHIN_RAW = 1.5  # API / (a)
FASTER_THAN_NAIVE = 4.0  # (b) / API
GAPS_MS = 50.0

# ---------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Row:
    database: str
    scale: float
    report: str
    rows: int
    api_ms: float
    raw_ms: float  # (a)
    naive_ms: float  # (b)
    agree: bool

    @property
    def api_over_raw(self) -> float:
        return self.api_ms / self.raw_ms

    @property
    def naive_over_api(self) -> float:
        return self.naive_ms / self.api_ms


def median_ms(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(median milliseconds of ``repeat`` calls after an untimed one, the last answer)."""
    answer = call()
    times = []
    for _ in range(repeat):
        started = perf_counter()
        answer = call()
        times.append(1000 * (perf_counter() - started))
    return statistics.median(times), answer


class Raw:
    """One DBAPI connection of the app's own engine (same SQLite pragmas), read-only. On
    PostgreSQL it sorts and hashes in the work_mem the app gives its reports, so that (a),
    (b) and the API run with the same memory."""

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.raw_connection()
        mb = get_settings().report_work_mem_mb
        # As the app sets it: for each call's transaction (one more statement, as the API's).
        self.work_mem = f"{mb}MB" if mb and engine.dialect.name == "postgresql" else None

    def __call__(self, *statements: str) -> Callable[[], list[list[tuple]]]:
        """Runs the statements one after the other; answers each one's rows."""

        def run() -> list[list[tuple]]:
            cursor = self.conn.cursor()
            try:
                if self.work_mem:
                    cursor.execute("SELECT set_config('work_mem', %s, true)", (self.work_mem,))
                out = []
                for sql in statements:
                    cursor.execute(sql)
                    out.append(cursor.fetchall())
                return out
            finally:
                cursor.close()
                self.conn.rollback()  # no snapshot kept between calls

        return run

    def close(self) -> None:
        self.conn.close()


def _api(client: TestClient, url: str, params: dict[str, Any]) -> Callable[[], Any]:
    def call() -> Any:
        r = client.get(url, params=params)
        if r.status_code != 200:
            raise SystemExit(f"GET {url} {params} answered {r.status_code}: {r.text[:500]}")
        return r

    return call


def _coverage_key(level: str, api_row: dict[str, Any]) -> tuple:
    return (
        api_row["id"] if level != "city" else 0,
        api_row["members"],
        api_row["participated"],
        api_row["met_hours"],
        api_row["sessions"],
        api_row["leader_lectures"],
        api_row["formats_used"],
    )


def _raw_coverage_keys(level: str, answers: list[list[tuple]]) -> list[tuple]:
    """The member rows joined to the session rows by key, as ``_coverage_key`` shapes."""
    member_rows, session_rows = answers
    skip = 0 if level == "city" else 2  # code and name after the key
    held = {r[0]: tuple(int(v or 0) for v in r[1:]) for r in session_rows}
    out = []
    for row in member_rows:
        members, participated, met = (int(v or 0) for v in row[1 + skip : 4 + skip])
        out.append((row[0], members, participated, met, *held.get(row[0], (0, 0, 0))))
    return sorted(out)


def measure(kind: str, scale: float, engine: Engine, client: TestClient, repeat: int) -> list[Row]:
    cutoff = (today() - INACTIVE_AFTER).isoformat()
    raw = Raw(engine)
    floor_ms, _ = median_ms(_api(client, "/api/v1/auth/me", {}), repeat)
    out = [Row(kind, scale, "floor: GET /auth/me", 1, floor_ms, float("nan"), float("nan"), True)]
    try:
        for level in LEVELS:
            api_ms, r = median_ms(
                _api(client, "/api/v1/reports/coverage", {"level": level}), repeat
            )
            raw_ms, raw_answers = median_ms(raw(*coverage_sql(level, TOTALS, cutoff, kind)), repeat)
            naive_ms, naive_answers = median_ms(
                raw(*coverage_sql(level, NAIVE_TOTALS, cutoff, kind)), repeat
            )
            api_rows = r.json()["rows"]
            mine = sorted(_coverage_key(level, x) for x in api_rows)
            agree = (
                mine
                == _raw_coverage_keys(level, raw_answers)
                == _raw_coverage_keys(level, naive_answers)
            )
            out.append(
                Row(
                    kind, scale, f"coverage {level}", len(api_rows), api_ms, raw_ms, naive_ms, agree
                )
            )
        (((branch_id, members),),) = raw(largest_branch(kind))()
        params = {"branch_id": branch_id, "limit": 500}
        api_ms, r = median_ms(_api(client, "/api/v1/reports/gaps", params), repeat)
        raw_ms, (raw_rows,) = median_ms(raw(gaps_sql(branch_id, TOTALS, cutoff, kind)), repeat)
        naive_ms, (naive_rows,) = median_ms(
            raw(gaps_sql(branch_id, NAIVE_TOTALS, cutoff, kind)), repeat
        )
        listed = [g["member_id"] for g in r.json()["items"]]
        agree = listed == [x[0] for x in raw_rows] == [x[0] for x in naive_rows]
        label = f"gaps of a branch ({members} members)"
        out.append(Row(kind, scale, label, len(listed), api_ms, raw_ms, naive_ms, agree))
    finally:
        raw.close()
    return out


def run(
    kind: str, scale: float, seed: int, repeat: int, pg_server: str, sqlite_analyze: bool
) -> list[Row]:
    with migrated_database(kind, pg_server, prefix="campaign_bench_reports") as url:
        engine = create_db_engine(url)
        thresholds = gc.get_threshold()
        try:
            started = perf_counter()
            seeded = seed_demo(engine, scale=scale, seed=seed)
            print(
                f"{kind} scale {scale:g}: demo of {seeded.members:,} members, "
                f"{seeded.attendance:,} attendance rows in {perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            if kind == "sqlite" and sqlite_analyze:
                with engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            with Session(engine, expire_on_commit=False) as session:
                admin = factories.user(session, Role.city_admin, username="bench_reports")
            headers = factories.bearer(engine, admin)
            app = create_app(engine)
            tune_collector()  # as each server worker does (app.main.app_from_env)
            with TestClient(app, headers=headers) as client:
                return measure(kind, scale, engine, client, repeat)
        finally:
            gc.unfreeze()  # the next cell's database is another one
            gc.set_threshold(*thresholds)
            engine.dispose()


# ---------------------------------------------------------------------------- the report


def work_mem() -> str:
    mb = get_settings().report_work_mem_mb
    return f"{mb} MB (REPORT_WORK_MEM_MB)" if mb else "the server's (REPORT_WORK_MEM_MB=0)"


def print_table(rows: Sequence[Row], repeat: int, analyzed: bool) -> None:
    header = (
        f"{'database':<10} {'scale':>5} {'report':<34} {'rows':>6} | {'API ms':>8} "
        f"{'(a) ms':>8} {'(b) ms':>9} | {'API/(a)':>7} {'(b)/API':>7} | same"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.database:<10} {r.scale:>5g} {r.report:<34} {r.rows:>6,} | {r.api_ms:>8.1f} "
            f"{r.raw_ms:>8.1f} {r.naive_ms:>9.1f} | {r.api_over_raw:>7.2f} "
            f"{r.naive_over_api:>7.1f} | {'yes' if r.agree else 'NO'}"
        )
    print(
        f"\nmedian of {repeat} calls each, after one untimed call. API = in-process TestClient,"
        "\nas a city admin, whole JSON answer; (a) = hand-written SQL over the running totals"
        "\n(member_study_total, branch_session_total), DBAPI cursor, every row fetched;"
        "\n(b) = the same with the totals replaced by GROUP BYs over every attendance row and"
        "\nevery session. same = the three sides give the same figures."
        "\nfloor = GET /api/v1/auth/me, the cost of any authenticated call."
        f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end."
        f"\nSQLite statistics (ANALYZE after the seed): {'yes' if analyzed else 'no'}."
        f"\nPostgreSQL work_mem of all three sides: {work_mem()}."
    )
    top = max(r.scale for r in rows)
    judged = [r for r in rows if r.scale == top and not r.report.startswith("floor")]
    if not judged:
        return

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"\ntargets at scale {top:g}:")
    for r in judged:
        checks = [
            f"API/(a) {r.api_over_raw:.2f} <= {WITHIN_RAW}: "
            f"{verdict(r.api_over_raw <= WITHIN_RAW)}",
            f"(b)/API {r.naive_over_api:.1f} >= {FASTER_THAN_NAIVE:g}: "
            f"{verdict(r.naive_over_api >= FASTER_THAN_NAIVE)}",
        ]
        if r.report.startswith("gaps"):
            checks.append(f"{r.api_ms:.1f} ms < {GAPS_MS:g} ms: {verdict(r.api_ms < GAPS_MS)}")
        print(f"  {r.database:<10} {r.report:<34} " + "; ".join(checks))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per figure")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to make throwaway databases on"
    )
    parser.add_argument(
        "--sqlite-analyze",
        action="store_true",
        help="run a full ANALYZE on SQLite after the seed (which samples)",
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for kind in args.databases:
        for scale in args.scales:
            rows += run(kind, scale, args.seed, args.repeat, args.pg_url, args.sqlite_analyze)
    print_table(rows, args.repeat, args.sqlite_analyze)


if __name__ == "__main__":
    main()
