import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session

from app.clock import today
from app.db import create_db_engine
from app.migrate import alembic_config, upgrade
from app.models import metadata
from app.study import branch_totals
from tests.campaign import factories as campaign
from tests.databases import fresh_database
from tests.org import factories as org

VERSIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def test_upgrade_head_on_an_empty_database_matches_the_models():
    with fresh_database() as url:
        upgrade(url)
        engine = create_db_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn, opts={"compare_type": True, "render_as_batch": True}
                )
                diff = compare_metadata(context, metadata)
                tables = set(sa.inspect(conn).get_table_names())
        finally:
            engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_one_head_and_files_named_by_date_and_slug():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    names = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert names, "no migrations found"
    for name in names:
        assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}-[a-z0-9_]+\.py", name), name


def test_the_branch_session_totals_migration_counts_the_sessions_already_recorded():
    """0008 adds branch_session_total to a database in use: it must start out equal to the
    sessions recorded before it, as verify-totals recomputes them.

    The places are arranged with today's factories on the 0007 schema; should a later
    migration change the district, unit, branch or batch tables, arrange them here as they
    stood at 0007."""
    session_table = metadata.tables["study_session"]
    with fresh_database() as url:
        upgrade(url, "0007")
        engine = create_db_engine(url)
        try:
            with Session(engine) as s:
                b = campaign.batch(s)
                u = org.unit(s)
                branches = [org.branch(s, u.id), org.branch(s, u.id)]
                s.commit()
                rows = [
                    {
                        "id": uuid.uuid4(),
                        "branch_id": branches[n % 2].id,
                        "unit_id": u.id,
                        "batch_id": b.id,
                        "phase": "study" if n < 5 else "evaluation",
                        "held_on": today() - timedelta(days=n),
                        "format": ("seminar", "party_lecture", "self_study")[n % 3],
                        "hours": Decimal(2),
                        "topic": "学习",
                        "lecturer_is_leading_cadre": n % 4 == 0,
                        "created_at": datetime.now(UTC),
                        "updated_at": datetime.now(UTC),
                    }
                    for n in range(7)
                ]
                s.execute(sa.insert(session_table), rows)
                s.commit()
            upgrade(url)
            with Session(engine) as s:
                assert branch_totals.differences(s) == []
                stored = s.execute(
                    sa.select(metadata.tables["branch_session_total"]).order_by(
                        "branch_id", "phase"
                    )
                ).all()
        finally:
            engine.dispose()
    # Branch 0 held sessions 0, 2, 4 (study) and 6 (evaluation); branch 1 held 1, 3 (study)
    # and 5 (evaluation).
    assert [(r.phase, r.sessions) for r in stored] == [
        ("evaluation", 1),
        ("study", 3),
        ("evaluation", 1),
        ("study", 2),
    ]
    first_study = stored[1]
    assert first_study.leader_lectures == 2  # sessions 0 and 4
    assert (first_study.seminar_sessions, first_study.party_lecture_sessions) == (1, 1)
    assert first_study.self_study_sessions == 1
    assert first_study.last_held_on == today()
