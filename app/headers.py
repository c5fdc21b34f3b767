"""Security headers on every answer, and CORS for the browser front-ends named in settings."""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings

# JSON answers load nothing and belong in no frame; an HTML page without a policy of its
# own (the printable bulletin: one inline <style>, no script) may style itself, no more.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": API_POLICY,
}
_ALWAYS = tuple(
    (name.lower().encode(), value.encode())
    for name, value in SECURITY_HEADERS.items()
    if name != "Content-Security-Policy"
)


class SecurityHeadersMiddleware:
    """Plain ASGI, so that streamed exports pass through untouched but for their headers.
    A header the route set itself (the docs' own policy) is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [(k, v) for k, v in _ALWAYS if k not in present]
                if b"content-security-policy" not in present:
                    html = any(
                        name.lower() == b"content-type" and value.startswith(b"text/html")
                        for name, value in headers
                    )
                    added.append(
                        (b"content-security-policy", (PAGE_POLICY if html else API_POLICY).encode())
                    )
                message["headers"] = headers + added
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_cors(app: FastAPI, origins: list[str] | None = None) -> None:
    """Off unless origins are configured. Tokens travel in the Authorization header, never in
    cookies, so credentials stay off; preflights are cached for ten minutes."""
    origins = get_settings().cors_origins if origins is None else origins
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=[
            "X-Request-ID",
            "Idempotent-Replayed",
            "Retry-After",
            "Content-Disposition",
            "Location",
        ],
        max_age=600,
    )
