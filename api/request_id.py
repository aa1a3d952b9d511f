"""Request IDs: one per HTTP request or WebSocket connection, in every log line it causes.

The client's ``X-Request-ID`` is kept when it is a sane token (up to 64 characters of letters,
digits, ``.``, ``_`` and ``-``), else a new ID is made. The ID is returned in the
``X-Request-ID`` response header (and in the WebSocket handshake's answer) and held in a context
variable that ``RequestIdFilter`` adds to log records.
"""

import contextvars
import logging
import re
import uuid
from typing import Any

HEADER = b"x-request-id"
SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "smsauth_request_id", default=None
)


def current() -> str | None:
    """The request ID of the request or connection being handled, if any."""
    return _current.get()


def chosen(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's ID if it is sane, else a new one."""
    for name, value in headers:
        if name.lower() == HEADER:
            given = value.decode("latin-1")
            if SANE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestId:
    """Pure ASGI middleware: binds the request ID for the request (or the whole connection)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = chosen(scope.get("headers") or [])

        async def send_with_id(message: dict) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = [*message.get("headers", ()), (HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        token = _current.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = _current.get()
            if request_id is not None:
                record.request_id = request_id
        return True
