"""Benchmark of the member import through the API against a raw parse-and-executemany.

    python bench/import.py [--databases sqlite postgresql] [--repeat 1] [--pg-url URL]

The file: the demo (seed 2005, scale 1: 35,585 members) is seeded into a temporary SQLite
database and exported through the API as a city admin (``GET /api/v1/members?format=xlsx``),
which is the XLSX a department downloads and imports again. The export is timed too.

For each database, on a fresh migrated database holding only the demo's districts, units and
branches (the same codes):

- **API**: the file POSTed to ``/api/v1/imports/members`` through the app (``TestClient``
  against ``create_app``, as a city admin), timed from request to answer: upload, parsing,
  every check, the write, the audit entry and the commit.
- **raw**, on another such database: the same file parsed with python-calamine, each row
  turned into the member columns (labels to codes, categories to flags, the branch code to
  its id from one query), and written with a plain DBAPI ``executemany`` (sqlite3 or
  psycopg) in one transaction. No checks at all: the limit the API is measured against.
"""

import argparse
import io
import random
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy.engine import make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.principal import Role
from app.clock import utcnow
from app.db import create_db_engine, writer
from app.demo import DEFAULT_SEED, Sizes, seed_demo
from app.demo.generator import build_plan
from app.demo.writer import insert_rows, reset_sequences
from app.main import create_app
from app.models import metadata
from app.org.enums import Gender, MemberCategory
from tests.auth import factories
from tests.databases import migrated_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEMBER_COLUMNS = (
    "name",
    "gender",
    "birth_date",
    "joined_on",
    "branch_id",
    "is_migrant",
    "is_outgoing",
    "is_retired",
    "is_infirm",
    "id_number",
    "phone",
    "status",
)


@dataclass(frozen=True)
class Timing:
    database: str
    rows: int
    api: float
    raw_parse: float
    raw_write: float

    @property
    def raw(self) -> float:
        return self.raw_parse + self.raw_write


def city_client(engine: Any) -> TestClient:
    with Session(engine, expire_on_commit=False) as session:
        admin = factories.user(session, Role.city_admin, username="bench_city")
    return TestClient(create_app(engine), headers=factories.bearer(engine, admin))


def export_demo(seed: int) -> tuple[bytes, int, float]:
    """(the XLSX, its members, seconds the export took)."""
    with migrated_database("sqlite", "") as url:
        engine = create_db_engine(url)
        try:
            seeded = seed_demo(engine, scale=1.0, seed=seed)
            with city_client(engine) as client:
                started = perf_counter()
                r = client.get("/api/v1/members", params={"format": "xlsx"})
                seconds = perf_counter() - started
            r.raise_for_status()
        finally:
            engine.dispose()
    return r.content, seeded.members, seconds


def write_tree(url: str, seed: int) -> None:
    """The demo's districts, units and branches, and no member: what the file imports into."""
    plan = build_plan(Sizes.at(1.0), random.Random(seed), utcnow())
    tables = metadata.tables
    engine = create_db_engine(url)
    try:
        with writer(engine).begin() as conn:
            for name, rows in (
                ("district", plan.districts),
                ("unit", plan.units),
                ("branch", plan.branches),
            ):
                insert_rows(conn, tables[name], rows, plan.now)
            reset_sequences(conn, [tables[n] for n in ("district", "unit", "branch")])
    finally:
        engine.dispose()


def time_api(url: str, content: bytes) -> tuple[float, int]:
    engine = create_db_engine(url)
    try:
        with city_client(engine) as client:
            started = perf_counter()
            r = client.post(
                "/api/v1/imports/members", files={"file": ("党员名册.xlsx", content, XLSX)}
            )
            seconds = perf_counter() - started
        if r.status_code != 200:
            raise SystemExit(f"the import was refused: {r.status_code} {r.text[:2000]}")
        return seconds, r.json()["created"]
    finally:
        engine.dispose()


def raw_rows(content: bytes, branch_ids: dict[str, int]) -> list[tuple[Any, ...]]:
    """The file's rows as member columns, with no checks: only what the insert needs."""
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    header, *cells = sheet.to_python()
    at = {label: n for n, label in enumerate(header)}
    gender = {g.label: g.value for g in Gender}
    category = {c.label: f"is_{c.value}" for c in MemberCategory}
    flags = ("is_migrant", "is_outgoing", "is_retired", "is_infirm")
    name, sex, birth, idn, phone, code, cats, joined = (
        at[h]
        for h in ("姓名", "性别", "出生日期", "身份证号", "手机号", "支部编码", "类别", "入党日期")
    )
    rows = []
    for r in cells:
        member_flags = {category[c] for c in r[cats].split("、")} if r[cats] else set()
        rows.append(
            (
                r[name],
                gender[r[sex]],
                r[birth] or None,
                r[joined] or None,
                branch_ids[r[code]],
                *(f in member_flags for f in flags),
                r[idn],
                r[phone] or None,
                "active",
            )
        )
    return rows


def time_raw(url: str, content: bytes) -> tuple[float, float, int]:
    """(parse seconds, write seconds, rows): calamine, then executemany in one transaction."""
    stamp = utcnow()
    if url.startswith("sqlite"):
        sqlite3.register_adapter(date, date.isoformat)
        conn: Any = sqlite3.connect(make_url(url).database, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN IMMEDIATE")
        placeholder = "?"
        literal = f"'{stamp.astimezone(UTC).replace(tzinfo=None)}'"
    else:
        plain = make_url(url).set(drivername="postgresql")
        conn = psycopg.connect(plain.render_as_string(hide_password=False))
        placeholder = "%s"
        literal = f"'{stamp.isoformat()}'"
    try:
        started = perf_counter()
        branch_ids = dict(conn.execute("SELECT code, id FROM branch").fetchall())
        rows = raw_rows(content, branch_ids)
        parse = perf_counter() - started
        values = ", ".join([placeholder] * len(MEMBER_COLUMNS) + [literal, literal])
        sql = (
            f"INSERT INTO member ({', '.join(MEMBER_COLUMNS)}, created_at, updated_at) "
            f"VALUES ({values})"
        )
        started = perf_counter()
        conn.cursor().executemany(sql, rows)
        conn.execute("COMMIT") if url.startswith("sqlite") else conn.commit()
        write = perf_counter() - started
    finally:
        conn.close()
    return parse, write, len(rows)


def run(kind: str, content: bytes, seed: int, repeat: int, pg_server: str) -> Timing:
    """The fastest API run and the fastest raw run, each on its own fresh database."""
    apis: list[float] = []
    raws: list[tuple[float, float]] = []
    for _ in range(repeat):
        with migrated_database(kind, pg_server) as url:
            write_tree(url, seed)
            api, created = time_api(url, content)
        with migrated_database(kind, pg_server) as url:
            write_tree(url, seed)
            parse, write, rows = time_raw(url, content)
        assert created == rows, (created, rows)
        apis.append(api)
        raws.append((parse, write))
    parse, write = min(raws, key=sum)
    return Timing(kind, rows, min(apis), parse, write)


def print_table(timings: Sequence[Timing], export_seconds: float, size: int) -> None:
    header = (
        f"{'database':<10} {'rows':>7} | {'API s':>6} {'rows/s':>7} | {'raw parse s':>11} "
        f"{'raw write s':>11} {'raw s':>6} {'rows/s':>7} | {'API / raw':>9}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        print(
            f"{t.database:<10} {t.rows:>7,} | {t.api:>6.2f} {t.rows / t.api:>7,.0f} | "
            f"{t.raw_parse:>11.2f} {t.raw_write:>11.2f} {t.raw:>6.2f} {t.rows / t.raw:>7,.0f} | "
            f"{t.api / t.raw:>9.2f}"
        )
    print(
        f"\nthe file: {size / 2**20:.1f} MB of XLSX, exported through the API from the SQLite "
        f"demo in {export_seconds:.2f} s."
        "\nAPI = POST /api/v1/imports/members end to end (upload, parse, checks, write, audit,"
        "\ncommit); raw = calamine parse + row conversion (raw parse s), then executemany and"
        "\ncommit (raw write s), no checks. Target: API / raw under 3."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per database; the fastest of each side is kept"
    )
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to make throwaway databases on"
    )
    args = parser.parse_args(argv)
    content, members, export_seconds = export_demo(args.seed)
    print(f"exported {members:,} members ({datetime.now(UTC):%H:%M:%S})", file=sys.stderr)
    timings = []
    for kind in args.databases:
        timings.append(run(kind, content, args.seed, args.repeat, args.pg_url))
        print(f"done: {kind}", file=sys.stderr)
    print_table(timings, export_seconds, len(content))


if __name__ == "__main__":
    main()
