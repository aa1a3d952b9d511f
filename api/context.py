"""Per-request context: the runtime and the authenticated principal (HTTP header or WS payload)."""

import ipaddress
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info

from domain.auth import Principal, authenticate
from domain.errors import Unauthenticated
from domain.models import Scope
from domain.runtime import Runtime

#: A server calling with an API key on behalf of an end user names the user's IP address here.
END_USER_IP_HEADER = "smsauth-forwarded-for"


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
            principal = await authenticate(token)
            self.principal = replace(principal, client_ip=client_ip(self.request, principal))
            self.auth_error = None
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


def client_ip(request: Any, principal: Principal) -> str | None:
    """The end user's IP address, for per-IP rate limits.

    A user token is used from the user's own device: the connection's address (uvicorn takes it
    from X-Forwarded-For of trusted proxies, ``SMSAUTH_TRUSTED_PROXIES``). An API key is used by
    a server, whose own address says nothing of the user: it may name the user's address in the
    ``smsauth-forwarded-for`` header; without one, no per-IP limit applies to the request.
    """
    if principal.user is not None:
        client = getattr(request, "client", None)
        return client.host if client else None
    headers = getattr(request, "headers", None)
    raw = (headers.get(END_USER_IP_HEADER) or "") if headers is not None else ""
    try:
        return str(ipaddress.ip_address(raw.split(",")[0].strip()))
    except ValueError:
        return None


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def ctx(info: Info) -> Context:
    return info.context
