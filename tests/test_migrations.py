import re
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.db import create_db_engine
from app.migrate import alembic_config, upgrade
from app.models import metadata
from tests.databases import fresh_database

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
