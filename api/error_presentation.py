"""How errors leave the server: domain errors get their code, anything unexpected is masked.

An unexpected exception is logged once with an error ID, and the client sees only
"Unexpected error" and that ID (the exception's text may hold anything, secrets included).
"""

import logging
import uuid
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.relay.types import GlobalIDValueError

from api import request_id
from domain.errors import DomainError, NotFound

log = logging.getLogger("smsauth.api")


def present(error: GraphQLError, debug: bool) -> GraphQLError:
    original = error.original_error
    if original is None:  # syntax and validation errors: the client's own query, safe to show
        error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return error
    if isinstance(original, GlobalIDValueError):  # node(id:) given garbage or a non-node's ID
        original = NotFound("object", field="id")
    if isinstance(original, DomainError):
        extensions = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        return GraphQLError(
            original.message, nodes=error.nodes, path=error.path, extensions=extensions
        )
    if isinstance(original, GraphQLError) and original.extensions:  # e.g. argument coercion
        return error
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "unexpected error %s at %s: %s",
        error_id,
        error.path,
        type(original).__name__,
        exc_info=(type(original), original, original.__traceback__),
        extra={"error_id": error_id, "request_id": request_id.current()},
    )
    message = f"Unexpected error (error ID {error_id})"
    if debug:
        message += f": {type(original).__name__}: {original}"
    return GraphQLError(
        message,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL", "errorId": error_id},
    )


class ErrorPresentation(SchemaExtension):
    """Debug mode (``SMSAUTH_DEBUG``) adds the exception text to masked errors."""

    def on_operation(self) -> Iterator[None]:
        yield
        self._present(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each event of a subscription, errors included, leaves the same way."""
        self._present(result)
        yield

    def _present(self, result: Any) -> None:
        if result is not None and getattr(result, "errors", None):
            runtime = getattr(self.execution_context.context, "runtime", None)
            debug = bool(runtime and runtime.settings.debug)
            result.errors = [present(e, debug) for e in result.errors]
