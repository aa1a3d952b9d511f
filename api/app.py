"""The ASGI application: GraphQL (HTTP and WebSocket) at /graphql, liveness at /healthz,
readiness at /readyz, Prometheus metrics at /metrics."""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from api import gc_policy, graphiql
from api.context import Context, bearer_token
from api.limits import BodySizeLimit
from api.metrics import metrics_endpoint
from api.request_id import RequestId
from api.schema import schema
from api.webhooks import receive_receipt
from domain import metrics, readiness
from domain.assertions import public_key_set
from domain.bus import create_bus
from domain.db import close_database, open_database
from domain.dispatcher import Dispatcher
from domain.runtime import Runtime
from domain.settings import Settings
from domain.smpp_receipts import SmppReceipts

log = logging.getLogger("smsauth.app")

#: These log every SQL statement with its bound values (numbers, texts) at DEBUG.
QUIET_LOGGERS = ("tortoise.db_client", "aiosqlite")


def quiet_sensitive_loggers() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)


class GraphQLApp(GraphQL):
    """Strawberry's ASGI view with smsauth's context and WebSocket authentication."""

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request=request, response=response, runtime=self.runtime)
        if isinstance(request, Request):
            await context.authenticate(bearer_token(request.headers.get("authorization")))
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization") or ""
        token = bearer_token(raw) if isinstance(raw, str) and " " in raw else raw or None
        await context.authenticate(token if isinstance(token, str) else None)
        if context.principal is None:
            reason = context.auth_error.message if context.auth_error else "authentication required"
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": reason})
        return None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL with its assets from this server (Strawberry's page loads them from a CDN)."""
        return HTMLResponse(graphiql.page())


def ide(settings: Settings) -> str | None:
    """GraphiQL needs introspection: it is served only when both are on."""
    if settings.graphiql and not settings.introspection:
        log.warning("GraphiQL is off because introspection is off (SMSAUTH_INTROSPECTION)")
    return "graphiql" if settings.graphiql and settings.introspection else None


def middleware(settings: Settings) -> list[Middleware]:
    """Request IDs (outermost: every response and log line has one), CORS for the configured
    browser origins (none: no CORS headers), then the body limit."""
    stack = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    if settings.cors_origins:
        cors = Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],  # so an SPA can quote it in a support request
            allow_credentials=False,  # bearer tokens, not cookies
            max_age=600,
        )
        stack.insert(0, cors)  # outside the limit, so refusals (413) carry CORS headers too
    stack.insert(0, Middleware(RequestId))
    return stack


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The app; with ``manage_database`` false the caller opens and closes the database."""
    settings = settings or Settings.from_env()
    quiet_sensitive_loggers()
    runtime = Runtime.from_settings(settings)
    graphql = GraphQLApp(runtime, schema=schema, graphql_ide=ide(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await open_database(settings.database_url)
        runtime.bus = create_bus(settings)
        await runtime.bus.start()
        dispatcher = Dispatcher(runtime)
        app.state.dispatcher = dispatcher
        app.state.smpp_receipts = smpp_receipts = SmppReceipts(runtime)
        if settings.dispatcher:
            runtime.on_queued = dispatcher.wake
            dispatcher.start()
            smpp_receipts.start()
        gc_policy.app_started()  # start-up objects out of the collector's way (lower p99)
        try:
            yield
        finally:
            gc_policy.app_stopped()
            await smpp_receipts.stop()
            await dispatcher.stop()
            await runtime.bus.close()
            await runtime.close()
            if manage_database:
                await close_database()
            metrics.process_stopped()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        state = await readiness.check(settings)
        return JSONResponse(
            {"status": "ready" if state.ready else "not ready", "checks": state.checks},
            status_code=200 if state.ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(await public_key_set(), headers={"Cache-Control": "max-age=300"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *(graphiql.asset_routes() if graphql.graphql_ide else []),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *([Route("/metrics", metrics_endpoint)] if settings.metrics else []),
            Route("/.well-known/jwks.json", jwks),
            Route("/webhooks/sms/{gateway_id}", receive_receipt, methods=["GET", "POST"]),
        ],
        middleware=middleware(settings),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
