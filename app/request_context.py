"""The request id: taken from the client's X-Request-ID or made here, echoed on every answer."""

import re
import uuid
from contextvars import ContextVar

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only if it is short and plain, so it cannot smuggle text into logs.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


class RequestIdMiddleware:
    """Plain ASGI (not BaseHTTPMiddleware), so it costs nothing on streamed answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None
        )
        rid = given if given and _ACCEPTABLE_ID.match(given) else uuid.uuid4().hex
        # In the scope, so that the outermost 500 handler (outside this middleware) finds it.
        scope.setdefault("state", {})["request_id"] = rid
        token = current_request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
