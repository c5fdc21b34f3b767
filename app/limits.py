"""The body size limit: a JSON body over 1 MB is refused (413) before it is parsed."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, AppError

MAX_JSON_BYTES = 1024 * 1024


class PayloadTooLarge(AppError):
    status, type, title = 413, "payload-too-large", "The request is too large"


class BodySizeLimitMiddleware:
    """Counts what arrives, since Content-Length may be missing or wrong (a chunked body has
    none). Uploads (multipart/form-data) are left to their route, which allows more (20 MB)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        received = 0
        too_large = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise PayloadTooLarge(f"The body is larger than {self.max_bytes:,} bytes.")
            return message

        async def answer(message: Message) -> None:
            # Whoever catches the refusal on its way out (FastAPI's body parser answers any
            # error while reading as a 400) answers 413 all the same.
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await _refuse(send, self.max_bytes)

        await self.app(scope, counted, answer)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(PayloadTooLarge(f"The body is larger than {limit:,} bytes.").body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
