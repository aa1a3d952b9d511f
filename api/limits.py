"""Request body size limit (``SMSAUTH_MAX_BODY_BYTES``) for every HTTP route, as ASGI middleware.

A declared Content-Length over the limit is refused before anything is read; a body without one
(chunked) is read up to the limit and refused as soon as it passes it. The route runs only after
its whole body has arrived within the limit, so a refused request never half-runs.
WebSocket messages are bounded by the server instead (uvicorn's ``ws_max_size``, see api/cli.py).
"""

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = json.dumps(
    {"errors": [{"message": "request body too large", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
).encode()

TOO_LONG, GONE = object(), object()


class BodySizeLimit:
    """Answers 413 with a GraphQL-shaped error body when a request body exceeds ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_length(scope) > self.max_bytes:
            await refuse(send)
            return
        body = await self.read_body(receive)
        if body is TOO_LONG:
            await refuse(send)
        elif body is not GONE:
            await self.app(scope, replay(body, receive), send)

    async def read_body(self, receive: Receive) -> Any:
        """The whole body; TOO_LONG once it grows past the limit, GONE if the client went away."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return GONE
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return TOO_LONG
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server refuses malformed framing; the body is counted anyway
    return 0


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over the buffered body once, then the client's own messages."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def refuse(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(TOO_LARGE)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": TOO_LARGE})
