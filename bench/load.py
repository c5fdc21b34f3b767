"""Load benchmark: branch secretaries write sessions and attendance while the department
reads the coverage and gap reports, through a real server with several workers.

    python bench/load.py [--duration 60] [--secretaries 8] [--report-rate 20] [--workers 2]

On a throwaway PostgreSQL database (migrated, seeded with the demo at ``--scale``, plus one
large branch per secretary so that a set can hold ``--records`` members), it starts
``campaign serve --workers N`` and runs, for ``--duration`` seconds, from one asyncio
process with httpx:

- ``--secretaries`` clients, each a branch secretary with a token for their own branch, as
  fast as the server answers: ``POST /sessions`` (a new session), then ``--puts-per-session``
  ``PUT /sessions/{id}/attendance`` of ``--records`` records (the first set, then
  corrections: each moves every record's status, so every PUT replaces rows and moves
  totals); and again.
- the department (a city admin) reading reports at a fixed ``--report-rate`` per second,
  whatever the answers' speed (an open loop): coverage by unit, coverage by district, and
  one branch's gaps, in turn, sent by ``--readers`` clients. A read's latency counts from
  its scheduled moment, so reads queued behind slow ones show their wait.

It prints requests/s and latency p50/p95/p99/max per endpoint, errors (any answer but the
expected status, or no answer), the targets, and a check of the running totals against
the attendance rows afterwards.
"""

import argparse
import asyncio
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.models import User
from app.auth.tokens import issue_token
from app.campaign.models import UnitProgress
from app.db import create_db_engine, new_session
from app.demo import DEFAULT_SEED, seed_demo
from app.migrate import upgrade
from app.org.models import Branch
from app.study import totals
from bench.load_clients import Secretary, read_urls, run_load
from bench.load_report import print_report
from bench.workload import (
    create_large_branches,
    interrupt_on_sigterm,
    study_days,
    vacuum_analyze,
)
from tests.databases import throwaway_postgres
from tests.server import ServerFailed, running_server

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------------------- the data


def make_users(engine: Engine, branch_ids: Sequence[int]) -> list[int]:
    """One branch secretary per branch; never a valid password hash: tokens are minted."""
    with new_session(engine, write=True) as session:
        made = [
            User(
                username=f"bench_secretary_{b}",
                display_name=f"压测支部书记{b}",
                role="branch_secretary",
                branch_id=b,
                password_hash="!",
            )
            for b in branch_ids
        ]
        session.add_all(made)
        session.commit()
        return [u.id for u in made]


def gap_branches(engine: Engine, limit: int = 200) -> list[int]:
    """Demo branches of units in study: the ones whose gaps the department looks at."""
    with new_session(engine, write=False) as session:
        return list(
            session.scalars(
                sa.select(Branch.id)
                .join(UnitProgress, UnitProgress.unit_id == Branch.unit_id)
                .where(UnitProgress.state == "study")
                .order_by(Branch.id)
                .limit(limit)
            )
        )


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument(
        "--secretaries", type=int, default=8, help="concurrent writing clients (0: reads only)"
    )
    parser.add_argument("--records", type=int, default=200, help="records per attendance set")
    parser.add_argument("--puts-per-session", type=int, default=3, help="PUTs after each POST")
    parser.add_argument(
        "--report-rate", type=float, default=20.0, help="report reads per second (0: writes only)"
    )
    parser.add_argument("--readers", type=int, default=4, help="clients sending the reads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to make a throwaway database on"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="demo seed scale")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--log-level", default="WARNING", help="the server's LOG_LEVEL")
    args = parser.parse_args(argv)
    interrupt_on_sigterm()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        with throwaway_postgres(args.pg_url, prefix="campaign_bench_load") as url:
            upgrade(url)
            engine = create_db_engine(url)
            try:
                seeded = seed_demo(engine, scale=args.scale, seed=args.seed)
                say(f"demo scale {args.scale:g}: {seeded.members:,} members")
                members, admin_id = create_large_branches(
                    engine, args.secretaries, args.records + 50
                )
                branch_ids = list(members)
                secretary_ids = make_users(engine, branch_ids)
                days = study_days(engine, branch_ids) if branch_ids else []
                urls = read_urls(gap_branches(engine))
                dsn = (
                    make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
                )
                vacuum_analyze(dsn)
                args.dsn = dsn
                secret = secrets.token_urlsafe(48)

                def bearer(user_id: int) -> dict[str, str]:
                    return {"Authorization": f"Bearer {issue_token(user_id, 0, secret)[0]}"}

                secretaries = [
                    Secretary(b, bearer(u), members[b][: args.records])
                    for b, u in zip(branch_ids, secretary_ids, strict=True)
                ]
                with running_server(url, args.workers, secret, args.log_level) as server:
                    say(f"server ready at {server.base} ({args.workers} workers)")
                    say(f"load: {args.duration:g} s")
                    args.load_before = os.getloadavg()[0]
                    stats, seconds, half_way = asyncio.run(
                        run_load(server, args, secretaries, bearer(admin_id), days, urls)
                    )
                    args.load_after = os.getloadavg()[0]
                with new_session(engine, write=False) as session:
                    differing = len(totals.differences(session))
            finally:
                engine.dispose()
    except KeyboardInterrupt:
        say("interrupted: the server was stopped and the database dropped")
        raise SystemExit(130) from None
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from None
    print_report(args, stats, seconds, half_way, differing)


if __name__ == "__main__":
    main()
