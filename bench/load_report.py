"""What load.py prints: each endpoint's calls, rate and latencies, the CPU per call, and
the targets."""

import argparse
import os

from bench.load_clients import PUT_ATTENDANCE, READS, Stats

TARGET_PUTS_PER_S, TARGET_READS_PER_S, TARGET_P95_MS = 100.0, 20.0, 200.0


def print_report(
    args: argparse.Namespace, stats: Stats, seconds: float, half_way, differing: int
) -> None:
    print(
        f"\nPostgreSQL, {args.workers} uvicorn workers, demo scale {args.scale:g}; "
        f"{args.secretaries} secretaries (POST a session, then {args.puts_per_session} PUTs of "
        f"{args.records} records, as fast as answered); the department reading "
        f"{args.report_rate:g} reports/s through {args.readers} clients; {seconds:.1f} s"
    )
    print(
        f"machine: {os.cpu_count()} CPUs; 1-minute load average before the run "
        f"{args.load_before:.2f}, after {args.load_after:.2f} (other jobs skew every figure)"
    )
    if half_way is not None:
        print(f"keep-alive connections per worker, mid-run: {' / '.join(map(str, half_way))}")
    header = (
        f"{'endpoint':<38} {'calls':>7} {'per s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'errors':>6} {'unsent':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in stats.runs.values():
        print(
            f"{r.label:<38} {r.ok:>7,} {r.ok / seconds:>7.1f} {r.percentile_ms(50):>7.1f} "
            f"{r.percentile_ms(95):>7.1f} {r.percentile_ms(99):>7.1f} "
            f"{1000 * max(r.latencies, default=0):>7.1f} {r.errors:>6} "
            f"{stats.unsent[r.label]:>6}"
        )
    print(
        "(report reads: latency from the moment they were due, queueing included; unsent:\n"
        "due but still queued when the time was up, the server being behind)"
    )
    if (cpu := args.cpu) is not None:
        busy = (cpu.server + cpu.database + cpu.clients) / seconds
        print(
            f"CPU per call, all endpoints: server workers {cpu.per_call_ms(cpu.server):.1f} ms, "
            f"PostgreSQL backends {cpu.per_call_ms(cpu.database):.1f} ms, clients "
            f"{cpu.per_call_ms(cpu.clients):.1f} ms; {busy:.2f} of {os.cpu_count()} CPUs busy "
            f"with this run on average"
        )

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    puts = stats.runs[PUT_ATTENDANCE].ok / seconds
    reads = sum(stats.runs[label].ok for label in READS) / seconds
    worst = max(stats.runs.values(), key=lambda r: r.percentile_ms(95) if r.ok else 0)
    errors = sum(r.errors for r in stats.runs.values())
    print(
        f"\nattendance PUTs/s: {puts:.1f}  ({puts * args.records:,.0f} records/s; "
        f"target >= {TARGET_PUTS_PER_S:.0f}: {verdict(puts >= TARGET_PUTS_PER_S)})"
    )
    print(
        f"report reads/s: {reads:.1f}  (target >= {TARGET_READS_PER_S:.0f}: "
        f"{verdict(reads >= TARGET_READS_PER_S * 0.98)})"
    )
    p95 = worst.percentile_ms(95)
    print(
        f"worst p95: {p95:.1f} ms, {worst.label}  (target < {TARGET_P95_MS:.0f} on every "
        f"endpoint: {verdict(p95 < TARGET_P95_MS)})"
    )
    print(f"errors: {errors}  (target 0: {verdict(errors == 0)})")
    for r in stats.runs.values():
        if r.errors:
            print(f"  {r.label}: {dict(r.outcomes)}; first: {r.first_error}")
    print(
        f"totals differing from the attendance rows afterwards: {differing}  "
        f"(must be 0: {verdict(differing == 0)})"
    )
