from typing import Annotated

from fastapi import Depends, Header, Request

from app.auth.dependencies import PrincipalDep
from app.db import SessionDep
from app.idempotency.service import Idempotency


async def get_idempotency(  # async: it does no I/O, and so needs no trip to the thread pool
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            description="Any unique string (a UUID): a retry with the same key and body "
            "answers the first answer again, with Idempotent-Replayed: true.",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(
        session, principal.user_id, idempotency_key, request.method, request.url.path
    )


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
