"""Prometheus metrics: every smsauth metric is defined here, once, and counted where it happens.

Labels stay few: gateway *type* (not gateway ID, which grows with every tenant's gateways),
status, outcome, purpose, action, scope and GraphQL operation (capped in ``api.metrics``).
``smsauth_messages_total`` counts the moves of messages into SENT and into each final status, so
a message receipted after SENT counts under SENT and then under DELIVERED (or UNDELIVERED).

A process started with ``PROMETHEUS_MULTIPROC_DIR`` keeps its values in files there
(prometheus_client's multiprocess mode), so ``/metrics`` of any ``smsauth serve --workers N``
worker reports the sum over all of them.
"""

import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from domain.models import DeliveryStatus, SmsGateway

log = logging.getLogger("smsauth.metrics")

#: Statuses counted by ``smsauth_messages_total``: handed over, and the final ones.
COUNTED = {
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.UNDELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.EXPIRED,
}
#: The flow steps whose outcomes ``smsauth_otp_verifications_total`` counts, by purpose.
VERIFICATIONS = {
    "SMS_ENROLLMENT_VERIFY": "ENROLLMENT",
    "SMS_AUTHENTICATION_VERIFY": "AUTHENTICATION",
}
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
GRAPHQL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

MESSAGES = Counter(
    "smsauth_messages",
    "Messages that moved into SENT or a final status, by gateway type.",
    ["gateway_type", "status"],
)
SEND_SECONDS = Histogram(
    "smsauth_send_seconds",
    "How long one hand-over of a message to its gateway took, by gateway type and outcome.",
    ["gateway_type", "outcome"],
    buckets=SEND_BUCKETS,
)
OTP_VERIFICATIONS = Counter(
    "smsauth_otp_verifications",
    "Code checks by purpose and outcome (SUCCESS or the error code).",
    ["purpose", "outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "smsauth_rate_limit_refusals",
    "Requests refused by a rate limit (scope COUNTRY_HOLD: a country on hold).",
    ["action", "scope"],
)
SUBSCRIPTIONS = Gauge(
    "smsauth_subscriptions",
    "Open GraphQL subscriptions.",
    multiprocess_mode="livesum",
)
GRAPHQL_SECONDS = Histogram(
    "smsauth_graphql_seconds",
    "GraphQL query and mutation latency by operation name and type.",
    ["operation_name", "operation_type"],
    buckets=GRAPHQL_BUCKETS,
)


async def message_reached(message_gateway_id: uuid.UUID | None, status: DeliveryStatus) -> None:
    """Count a message's move into ``status``; never fails the caller."""
    if status not in COUNTED:
        return
    try:
        gateway_type = await _gateway_type(message_gateway_id)
        MESSAGES.labels(gateway_type, status.value).inc()
    except Exception:  # a metric is not worth a failed status move
        log.warning("could not count a message status", exc_info=True)


#: gateway ID -> (its type, when it was read): a status move needs no query per message.
_GATEWAY_TYPES: dict[uuid.UUID, tuple[str, float]] = {}
GATEWAY_TYPE_TTL = 60.0  # a gateway's type may be changed; a label is this stale at most
GATEWAY_TYPES_KEPT = 10_000


async def _gateway_type(gateway_id: uuid.UUID | None) -> str:
    if gateway_id is None:
        return "unknown"
    known = _GATEWAY_TYPES.get(gateway_id)
    if known is not None and time.monotonic() - known[1] < GATEWAY_TYPE_TTL:
        return known[0]
    types = await SmsGateway.filter(id=gateway_id).limit(1).values_list("type", flat=True)
    gateway_type = types[0] if types else "unknown"
    if len(_GATEWAY_TYPES) >= GATEWAY_TYPES_KEPT:
        _GATEWAY_TYPES.clear()
    _GATEWAY_TYPES[gateway_id] = (gateway_type, time.monotonic())
    return gateway_type


def send_finished(gateway_type: str, outcome: str, started: float) -> None:
    """One hand-over to a gateway, begun at ``started`` (``time.perf_counter()``)."""
    SEND_SECONDS.labels(gateway_type, outcome).observe(time.perf_counter() - started)


def flow_step(action: str, outcome: str) -> None:
    """An audited OTP flow step; code checks are counted by purpose and outcome."""
    purpose = VERIFICATIONS.get(action)
    if purpose is not None:
        OTP_VERIFICATIONS.labels(purpose, outcome).inc()


def refused(action: str, scope: str) -> None:
    RATE_LIMIT_REFUSALS.labels(action, scope).inc()


@contextlib.asynccontextmanager
async def subscription_open() -> AsyncIterator[None]:
    """Counts an open subscription until it ends, however it ends (cancelled sockets too)."""
    SUBSCRIPTIONS.inc()
    try:
        yield
    finally:
        SUBSCRIPTIONS.dec()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def registry() -> CollectorRegistry:
    """What to expose: this process's metrics, or every process's in multiprocess mode."""
    if multiprocess_dir() is None:
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


def exposition() -> tuple[bytes, str]:
    """The text format and its content type."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def process_stopped() -> None:
    """In multiprocess mode, drop this process's live gauges (its open subscriptions)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())
