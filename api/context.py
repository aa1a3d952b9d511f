"""Per-request context: the runtime and the authenticated principal (HTTP header or WS payload)."""

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info

from domain.auth import Principal, authenticate
from domain.errors import Unauthenticated
from domain.models import Scope
from domain.runtime import Runtime


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    runtime: Runtime
    principal: Principal | None = None
    auth_error: Unauthenticated | None = None
    connection_params: dict[str, Any] | None = None

    async def authenticate(self, token: str | None) -> None:
        try:
            self.principal, self.auth_error = await authenticate(token), None
        except Unauthenticated as error:
            self.principal, self.auth_error = None, error

    def caller(self) -> Principal:
        """Any authenticated caller (user flows check what it may do in ``domain/``)."""
        if self.principal is None:
            raise self.auth_error or Unauthenticated("authentication required")
        return self.principal

    def require(self, scope: Scope) -> Principal:
        """The caller, if it may use ``scope``; raises Unauthenticated or Forbidden otherwise."""
        principal = self.caller()
        principal.require(scope)
        return principal


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def ctx(info: Info) -> Context:
    return info.context
