"""A session locked for writing is read from the database, not from a copy the transaction
loaded before: a sync batch reads a session, and by the time it locks the session to write,
a writer who held the lock may have changed it."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.auth.principal import Principal, Role
from app.org.models import Unit
from app.study.models import StudySession
from app.study.repository import SessionRepository
from tests.study import factories as study

CITY = Principal(user_id=None, username="city", role=Role.city_admin)


@pytest.fixture
def session_id(session, branch_in_study):
    batch, branch, _ = branch_in_study
    return study.study_session(session, branch.id, branch.unit_id, batch.id, topic="原题").id


def _changed_behind_the_identity_map(s: Session, session_id) -> None:
    """What another writer's committed change looks like to this transaction: the row
    differs from the copy already loaded (a Core UPDATE of the table leaves that copy be)."""
    table = StudySession.__table__
    s.connection().execute(
        sa.update(table).where(table.c.id == session_id).values(topic="他人改过", hours=3)
    )


def test_a_locked_read_answers_the_rows_current_values(engine, session_id):
    with Session(engine) as s:
        repo = SessionRepository(s, CITY)
        loaded = repo.get(session_id)
        assert loaded.topic == "原题"
        _changed_behind_the_identity_map(s, session_id)
        assert repo.get(session_id).topic == "原题"  # a plain read keeps the loaded copy

        locked = repo.get(session_id, for_update=True)
        assert locked is loaded  # one object per row in a session
        assert locked.topic == "他人改过"
        s.rollback()


def test_the_attendance_write_s_locked_read_answers_the_rows_current_values(
    engine, session_id, branch_in_study
):
    _, branch, _ = branch_in_study
    with Session(engine) as s:
        repo = SessionRepository(s, CITY)
        assert repo.get(session_id).hours != 3
        _changed_behind_the_identity_map(s, session_id)

        locked = repo.locked_for_attendance(session_id)
        assert (locked.id, locked.hours) == (session_id, 3)
        assert locked.branch_id == branch.id
        assert locked.district_id == s.get(Unit, branch.unit_id).district_id
        s.rollback()
