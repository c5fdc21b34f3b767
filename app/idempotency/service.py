"""Idempotency-Key for creating POSTs (DESIGN.md, API conventions).

The key is looked up and the answer stored inside the request's own transaction, so a key
is never recorded without the write it answers, nor a write without its key. Two requests
with one key at the same moment: on PostgreSQL the first holds a transaction-scoped advisory
lock on (user, key) and the second, failing to take it, answers 409 at once; SQLite runs
writing transactions one at a time, so the second simply finds the first's answer.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import advisory_xact_lock
from app.errors import Conflict, InvalidInput
from app.idempotency.models import IdempotencyKey

KEEP = timedelta(hours=24)
T = TypeVar("T")
REPLAYED_HEADER = "Idempotent-Replayed"


class KeyInUse(Conflict):
    type, title = "idempotency-key-in-use", "A request with this Idempotency-Key is still running"


class KeyReused(InvalidInput):
    type, title = "idempotency-key-reused", "The Idempotency-Key was used for another request"


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        # Decimals as floats: 3 and 3.0 are the same request.
        [method, path, jsonable_encoder(body, custom_encoder={Decimal: float})],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Idempotency:
    """One request's key (None when the client sent none: then it does nothing)."""

    session: Session
    user_id: int | None
    key: str | None
    method: str
    path: str

    def replay(self, body: Any) -> JSONResponse | None:
        """The first answer when this key was seen; 422 if it came with another request."""
        if self.key is None or self.user_id is None:
            return None
        self._hash = request_hash(self.method, self.path, body)
        self._lock()
        stored = self.session.scalar(
            sa.select(IdempotencyKey).where(
                IdempotencyKey.user_id == self.user_id,
                IdempotencyKey.key == self.key,
                IdempotencyKey.created_at > utcnow() - KEEP,
            )
        )
        if stored is None:
            return None
        if stored.request_hash != self._hash:
            raise KeyReused(
                "This Idempotency-Key was sent before with another request; use a new key."
            )
        return JSONResponse(
            stored.response, status_code=stored.status, headers={REPLAYED_HEADER: "true"}
        )

    def answer(self, body: Any, status: int, produce: Callable[[], T]) -> T | JSONResponse:
        """The first answer again for a repeated key; else ``produce()``, remembered."""
        if (replayed := self.replay(body)) is not None:
            return replayed
        result = produce()
        self.remember(status, result)
        return result

    def remember(self, status: int, answer: Any) -> None:
        if self.key is None or self.user_id is None:
            return
        now = utcnow()
        # Expired keys of this user go; the table holds a day of keys, not all of them.
        self.session.execute(
            sa.delete(IdempotencyKey).where(
                IdempotencyKey.user_id == self.user_id, IdempotencyKey.created_at <= now - KEEP
            )
        )
        self.session.add(
            IdempotencyKey(
                user_id=self.user_id,
                key=self.key,
                request_hash=self._hash,
                status=status,
                response=jsonable_encoder(answer),
                created_at=now,
            )
        )
        self.session.flush()

    def _lock(self) -> None:
        if not advisory_xact_lock(self.session, f"{self.user_id}:{self.key}", wait=False):
            raise KeyInUse("The first request with this key has not finished; retry shortly.")
