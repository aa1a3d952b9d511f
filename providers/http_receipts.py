"""Delivery receipts for the generic ``http`` type: which fields of a receipt say what, as declared.

A gateway reached through the ``http`` type calls smsauth's webhook in its own format, so the
admin names the fields: ``RECEIPT_STATUS_FIELD`` (required for receipts), ``RECEIPT_ID_FIELD``
and/or ``RECEIPT_REFERENCE_FIELD`` to match the message, and the comma-separated status values
that mean delivered, undelivered or failed. Any other value means the message is still on its
way (``SENT``). Each field is looked up in the query string, then the form body, then a JSON body,
where a dotted name (``data.status``) reaches into nested objects. A JSON list of objects is a
batch: one receipt per object. These gateways sign nothing: smsauth's webhook token authenticates
them.
"""

import json
from collections.abc import Mapping
from typing import Any

from providers.base import (
    ConfigProblem,
    GatewayConfig,
    InboundRequest,
    Parameter,
    Receipt,
    ReceiptMalformed,
    ReceiptStatus,
    mask_numbers,
)

#: The status value lists, in the order they are matched.
VALUE_LISTS: tuple[tuple[str, ReceiptStatus], ...] = (
    ("RECEIPT_DELIVERED_VALUES", "DELIVERED"),
    ("RECEIPT_UNDELIVERED_VALUES", "UNDELIVERED"),
    ("RECEIPT_FAILED_VALUES", "FAILED"),
)

RECEIPT_PARAMETERS = (
    Parameter(
        name="RECEIPT_STATUS_FIELD",
        label="Receipt status field",
        help="The field of a delivery receipt that holds the status, in the query string, the "
        "form or a JSON body (dotted names such as data.status reach into JSON objects). "
        "smsauth accepts receipts only when this is set.",
    ),
    Parameter(
        name="RECEIPT_ID_FIELD",
        label="Receipt message ID field",
        help="The receipt field that holds the gateway's message ID, the one RESPONSE_ID_FIELD "
        "reads from the reply to each message. Set this or the reference field.",
    ),
    Parameter(
        name="RECEIPT_REFERENCE_FIELD",
        label="Receipt reference field",
        help="The receipt field that holds smsauth's own message reference, for gateways that "
        "echo back the {reference} an option sent them.",
    ),
    Parameter(
        name="RECEIPT_DELIVERED_VALUES",
        label="Delivered status values",
        help="Comma-separated status values that mean delivered, e.g. DELIVRD,delivered "
        "(case is ignored).",
    ),
    Parameter(
        name="RECEIPT_FAILED_VALUES",
        label="Failed status values",
        help="Comma-separated status values that mean the gateway could not send the message. "
        "Values in no list mean it is still on its way.",
    ),
    Parameter(
        name="RECEIPT_UNDELIVERED_VALUES",
        label="Undelivered status values",
        help="Comma-separated status values that mean the network could not deliver the "
        "message, e.g. UNDELIV,EXPIRED.",
    ),
)


def _values(config: GatewayConfig, name: str) -> set[str]:
    return {v.strip().casefold() for v in (config.parameters.get(name) or "").split(",")} - {""}


def receipt_problems(config: GatewayConfig) -> list[ConfigProblem]:
    """The cross-field rules of the receipt parameters."""
    params = config.parameters
    others = [p.name for p in RECEIPT_PARAMETERS[1:] if params.get(p.name)]
    if not params.get("RECEIPT_STATUS_FIELD"):
        if not others:
            return []
        return [
            ConfigProblem(
                "parameters.RECEIPT_STATUS_FIELD",
                f"{', '.join(others)} need RECEIPT_STATUS_FIELD",
            )
        ]
    problems = []
    if not params.get("RECEIPT_ID_FIELD") and not params.get("RECEIPT_REFERENCE_FIELD"):
        problems.append(
            ConfigProblem(
                "parameters.RECEIPT_ID_FIELD",
                "set RECEIPT_ID_FIELD or RECEIPT_REFERENCE_FIELD to match receipts to messages",
            )
        )
    if not _values(config, "RECEIPT_DELIVERED_VALUES"):
        problems.append(
            ConfigProblem(
                "parameters.RECEIPT_DELIVERED_VALUES", "list the status values that mean delivered"
            )
        )
    seen: dict[str, str] = {}
    for name, _ in VALUE_LISTS:
        for value in sorted(_values(config, name)):
            if value in seen:
                problems.append(
                    ConfigProblem(f"parameters.{name}", f"{value!r} is also in {seen[value]}")
                )
            seen.setdefault(value, name)
    return problems


def parse_receipts(request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
    """The receipts of one webhook request, read as the gateway's parameters declare."""
    if not config.parameters.get("RECEIPT_STATUS_FIELD"):
        raise ReceiptMalformed("receipts are not configured for this gateway")
    return [_receipt(request, item, config) for item in _json_items(request)]


def _json_items(request: InboundRequest) -> list[Mapping[str, Any] | None]:
    """The JSON body's object, or each object of a JSON list; ``[None]`` without a JSON body."""
    if request.form or not request.body.strip():
        return [None]
    try:
        body = json.loads(request.body)
    except ValueError:  # not JSON (UnicodeDecodeError is a ValueError too)
        return [None]
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list) and body and all(isinstance(item, dict) for item in body):
        return body
    raise ReceiptMalformed("the JSON body is neither an object nor a list of objects")


def _receipt(
    request: InboundRequest, item: Mapping[str, Any] | None, config: GatewayConfig
) -> Receipt:
    params = config.parameters
    status = _field(request, item, params["RECEIPT_STATUS_FIELD"])
    message_id = _field(request, item, params.get("RECEIPT_ID_FIELD"))
    reference = _field(request, item, params.get("RECEIPT_REFERENCE_FIELD"))
    if not status:
        raise ReceiptMalformed(f"the receipt has no {params['RECEIPT_STATUS_FIELD']}")
    if not message_id and not reference:
        raise ReceiptMalformed("the receipt has no message ID or reference")
    folded = status.strip().casefold()
    mapped = next((s for name, s in VALUE_LISTS if folded in _values(config, name)), "SENT")
    return Receipt(
        provider_message_id=message_id or None,
        status=mapped,
        detail=mask_numbers(status),
        reference=reference or None,
    )


def _field(request: InboundRequest, item: Mapping[str, Any] | None, name: str | None) -> str | None:
    """The named field from the query string, the form, or the JSON object (dotted path)."""
    if not name:
        return None
    value = request.param(name)
    if value is not None or item is None:
        return value
    return json_field(item, name)


def json_field(item: Mapping[str, Any], name: str) -> str | None:
    """A plain value of a JSON object as text: the key ``name`` itself, else the dotted path
    (``data.id``); None when it is missing, null, an object or a list."""
    node: Any = item
    if name in item:
        node = item[name]
    else:
        for part in name.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
    if node is None or isinstance(node, Mapping | list):
        return None
    return node if isinstance(node, str) else json.dumps(node)
