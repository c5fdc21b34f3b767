"""The API's routes commit the request's session in the thread they ran in (app/routing.py),
and get_session (app/db.py) ends what they leave open: each write is committed once, or
not at all."""

from collections.abc import Iterator

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import db
from app.db import SessionDep
from app.errors import InvalidInput, install_error_handlers
from app.org.models import District
from app.routing import APIRouter


class Added(BaseModel):
    added: str
    id: int


def _app(engine) -> FastAPI:
    router = APIRouter()

    @router.post("/districts/{code}")
    def add(session: SessionDep, code: str) -> dict:
        session.add(District(code=code, name=code))
        session.flush()
        return {"added": code}

    @router.post("/refused/{code}")
    def add_then_refuse(session: SessionDep, code: str) -> dict:
        session.add(District(code=code, name=code))
        session.flush()
        raise InvalidInput.at(["path", "code"], "refused after writing")

    @router.post("/at-commit/{code}")
    def add_at_commit(session: SessionDep, code: str) -> dict:
        session.add(District(code=code, name=code))  # written by the commit's flush
        return {"added": code}

    @router.post("/misshapen/{code}")
    def add_and_answer_wrongly(session: SessionDep, code: str) -> Added:
        session.add(District(code=code, name=code))
        session.flush()
        return {"added": code}  # type: ignore[return-value]  # no id: the model refuses it

    @router.get("/lines")
    def lines() -> Iterator[dict]:
        yield {"n": 1}
        yield {"n": 2}

    @router.post("/async/{code}")
    async def add_on_the_loop(session: SessionDep, code: str) -> dict:
        session.add(District(code=code, name=code))
        return {"added": code}

    app = FastAPI()
    app.state.engine = engine
    install_error_handlers(app)
    app.include_router(router)
    return app


def _codes(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(District.code).order_by(District.code)))


def test_a_route_commits_in_its_own_thread_and_an_error_writes_nothing(engine, monkeypatch):
    ended_in_pool: list[bool] = []
    finish = db._finish

    def counted(session, *, commit):
        ended_in_pool.append(commit)
        finish(session, commit=commit)

    monkeypatch.setattr(db, "_finish", counted)
    with TestClient(_app(engine)) as client:
        assert client.post("/districts/D1").json() == {"added": "D1"}
        # Committed by the route: get_session had nothing left to end in the pool.
        assert ended_in_pool == []
        assert _codes(engine) == ["D1"]

        answer = client.post("/refused/D2")
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["loc"] == ["path", "code"]
        assert ended_in_pool == [False]  # rolled back
        assert _codes(engine) == ["D1"]

        # An async route is not wrapped (a commit would block the loop): get_session
        # commits what it left, in the pool.
        assert client.post("/async/D3").json() == {"added": "D3"}
        assert ended_in_pool == [False, True]
        assert _codes(engine) == ["D1", "D3"]


def test_a_failed_commit_is_an_error_answer_and_writes_nothing(engine):
    with TestClient(_app(engine)) as client:
        assert client.post("/at-commit/D1").status_code == 200
        # The same code again: the unique constraint fails in the route's commit, and the
        # answer says so (409, app/errors.py) instead of the route's 200.
        answer = client.post("/at-commit/D1")
        assert answer.status_code == 409
        assert answer.headers["content-type"] == "application/problem+json"
        assert _codes(engine) == ["D1"]


def test_an_answer_its_model_refuses_writes_nothing(engine):
    # A bug, answered 500; the write is rolled back, as when the session was committed only
    # after FastAPI had shaped the answer.
    with TestClient(_app(engine), raise_server_exceptions=False) as client:
        assert client.post("/misshapen/D1").status_code == 500
    assert _codes(engine) == []


def test_a_route_that_yields_is_streamed_as_fastapi_streams_it(engine):
    # Not wrapped: FastAPI reads what a generator yields after the route has returned.
    with TestClient(_app(engine)) as client:
        answer = client.get("/lines")
    assert answer.headers["content-type"] == "application/jsonl"
    assert answer.text == '{"n":1}\n{"n":2}\n'
