"""What ingest.py finds: the checks after the API run (totals, rows, audit) and the printed
table of the runs with the targets."""

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.audit.models import AuditEntry
from app.db import new_session
from app.study import totals
from app.study.models import Attendance
from bench.ingest_runs import Workload
from bench.measure import Run

TARGET_RATIO, TARGET_P95_MS = 0.5, 150.0


# ---------------------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Checks:
    totals_differing: int
    attendance_rows: int
    expected_rows: int
    audit_rows: int
    expected_audit_rows: int


def check(engine: Engine, workload: Workload, records_per_set: int, puts: int) -> Checks:
    """After the API run: the running totals against a recomputation from the rows, each
    session holding one full set, and one audit row per attendance write that succeeded."""
    ids = [sid for sid, _ in workload.all_sessions()]
    with new_session(engine, write=False) as session:
        differing = len(totals.differences(session))
        rows = session.scalar(
            sa.select(sa.func.count()).select_from(Attendance).where(Attendance.session_id.in_(ids))
        )
        audits = session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "attendance", AuditEntry.entity_id.in_(ids))
        )
    return Checks(differing, rows or 0, len(ids) * records_per_set, audits or 0, puts)


# ---------------------------------------------------------------------------- the report


def print_report(args: argparse.Namespace, api: Run, raws: Sequence[Run], checks: Checks) -> None:
    header = (
        f"{'side':<16} {'threads':>7} {'seconds':>7} {'calls':>7} {'calls/s':>8} "
        f"{'rows/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}"
    )
    layout = (
        "one session per client and branch (shared: every client writes every branch)"
        if args.shared
        else f"{args.sessions} sessions per client, all of its own branch"
    )
    print(
        f"\nPostgreSQL, {args.workers} uvicorn workers, {args.records} records per set, "
        f"{args.branches} branches of {args.members} members, {layout}"
        f"\n(VACUUM ANALYZE before each run; the server's autovacuum is {args.autovacuum})"
    )
    print(
        f"machine: {os.cpu_count()} CPUs; 1-minute load average when the API run began: "
        f"{args.load:.2f}"
    )
    if args.spread is not None:
        balanced = "balanced" if args.balance else "as accepted, not balanced"
        spread_text = " / ".join(map(str, args.spread))
        print(f"API keep-alive connections per worker, mid-run ({balanced}): {spread_text}")
    print(header)
    print("-" * len(header))
    for r in (api, *raws):
        print(
            f"{r.label:<16} {r.threads:>7} {r.seconds:>7.1f} {r.ok:>7,} {r.calls_per_s:>8.1f} "
            f"{r.rows_per_s:>8,.0f} {r.percentile_ms(50):>7.1f} {r.percentile_ms(95):>7.1f} "
            f"{r.percentile_ms(99):>7.1f} {1000 * max(r.latencies, default=0):>7.1f} "
            f"{r.errors:>6}"
        )
    if (cpu := args.cpu) is not None:
        total = cpu.server + cpu.database + cpu.clients
        print(
            f"\nAPI run, CPU per PUT: server workers {cpu.per_call_ms(cpu.server):.1f} ms, "
            f"PostgreSQL backends {cpu.per_call_ms(cpu.database):.1f} ms, "
            f"bench clients {cpu.per_call_ms(cpu.clients):.1f} ms; "
            f"{total / api.seconds:.2f} CPUs busy on average"
        )
    print(f"API run, busy database backends (sampled every 0.1 s): {args.waits}")
    print(
        "\ncalls: API = PUT /sessions/{id}/attendance answered 200; raw = one transaction"
        "\n(delete+insert: delete the session's rows, executemany the set; upsert: executemany"
        "\nthe set as INSERT ... ON CONFLICT DO UPDATE; then commit). Latency is per call."
    )

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print()
    for raw in raws:
        ratio = api.rows_per_s / raw.rows_per_s if raw.rows_per_s else float("nan")
        target = (
            f"  (target >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})"
            if raw.threads == api.threads
            else ""
        )
        print(f"API / {raw.label} rows/s, {raw.threads} thread(s): {ratio:.2f}{target}")
    p95 = api.percentile_ms(95)
    print(f"API p95: {p95:.1f} ms  (target < {TARGET_P95_MS:.0f}: {verdict(p95 < TARGET_P95_MS)})")
    errors = api.errors + sum(r.errors for r in raws)
    print(f"errors: {errors}  (target 0: {verdict(errors == 0)})")
    for r in (api, *raws):
        if r.errors:
            print(f"  {r.label}: {dict(r.outcomes)}; first: {r.first_error}")
    print(
        f"totals differing from the attendance rows after the API run: "
        f"{checks.totals_differing}  (must be 0: {verdict(checks.totals_differing == 0)})"
    )
    print(
        f"attendance rows of the bench sessions: {checks.attendance_rows:,} "
        f"(expected {checks.expected_rows:,}); attendance audit rows: {checks.audit_rows:,} "
        f"(expected one per successful PUT, {checks.expected_audit_rows:,})"
    )
