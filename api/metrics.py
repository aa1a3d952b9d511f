"""Prometheus at ``/metrics``, and GraphQL operation latency by operation name.

Operation names are chosen by clients, so the label is capped: an anonymous operation is
``anonymous``; a name that is not a GraphQL name, is longer than 64 characters, or comes after
``MAX_OPERATION_NAMES`` distinct names in this process is ``other``. Subscriptions are left out
(their "latency" is how long a socket stays open; ``smsauth_subscriptions`` counts them).
"""

import re
import time
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain import metrics

MAX_OPERATION_NAMES = 200
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

_seen_names: set[str] = set()


async def metrics_endpoint(request: Request) -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


def operation_label(name: str | None) -> str:
    """The ``operation_name`` label of a name a client sent."""
    if not name:
        return "anonymous"
    if not NAME.fullmatch(name):
        return "other"
    if name not in _seen_names:
        if len(_seen_names) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_names.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """Observes ``smsauth_graphql_seconds`` for each query and mutation."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = context.operation_type
        except Exception:  # no parsable document, or no operation of the given name
            kind = None
        if kind is OperationType.SUBSCRIPTION:
            return
        metrics.GRAPHQL_SECONDS.labels(
            operation_label(context.operation_name), kind.value if kind else "invalid"
        ).observe(time.perf_counter() - started)
