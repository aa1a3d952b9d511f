"""The generic ``http`` provider, with privacyIDEA's HTTP provider semantics.

Fixed parameters (``PARAMETER``, plus the account's extension parameters) are sent as they are;
``OPTIONS`` are sent per message with the tags ``{phone}``, ``{otp}`` and ``{reference}`` replaced
by the number, the message text and smsauth's own message ID. Both go in the query string (GET) or
the form or JSON body (POST). Success is a 2xx reply that contains ``RETURN_SUCCESS`` (when set) and
does not contain ``RETURN_FAIL``; ``RESPONSE_ID_FIELD`` names the field of a JSON reply that holds
the gateway's message ID. Delivery receipts are read as the ``RECEIPT_*`` parameters declare
(``providers.http_receipts``), matched by that ID or by the ``{reference}`` the gateway echoes.
"""

import re
from urllib.parse import urlsplit

from providers.base import (
    Accepted,
    BaseProvider,
    ConfigProblem,
    GatewayConfig,
    GatewayType,
    InboundRequest,
    OutboundMessage,
    Parameter,
    Receipt,
    Rejected,
    SendResult,
    mask_numbers,
)
from providers.http_receipts import (
    RECEIPT_PARAMETERS,
    json_field,
    parse_receipts,
    receipt_problems,
)
from providers.transport import HttpReply, HttpTransport, http_failure

#: The tags every gateway's OPTIONS must use.
REQUIRED_TAGS = ("{phone}", "{otp}")
#: Every tag ``substitute`` knows; ``{reference}`` is optional, for gateways that echo it back.
TAGS = (*REQUIRED_TAGS, "{reference}")
_TAG = re.compile(r"\{(phone|otp|reference)\}")


def substitute(template: str, phone: str, text: str, reference: str | None = None) -> str:
    """Replace the known tags only, in one pass: braces meaning anything else are left alone, and
    a value put in (a text that says "{phone}", say) is never replaced again. Without a
    ``reference`` the ``{reference}`` tag stays as it is."""
    values = {"phone": phone, "otp": text}
    if reference is not None:
        values["reference"] = reference
    return _TAG.sub(lambda tag: values.get(tag.group(1), tag.group()), template)


class HttpProvider(BaseProvider):
    type = GatewayType(
        key="http",
        name="HTTP gateway (privacyIDEA compatible)",
        required_fields=("url",),
        description="Any gateway that takes a simple HTTP GET or POST request. The account's "
        "user name and password are sent as HTTP basic authentication when set.",
        parameters=(
            Parameter(
                name="HTTP_METHOD",
                label="HTTP method",
                kind="choice",
                choices=("GET", "POST"),
                default="GET",
                help="GET sends the parameters in the query string, POST in the body.",
            ),
            Parameter(
                name="RETURN_SUCCESS",
                label="Success text",
                help="If set, the reply must contain this text for the message to count as sent.",
            ),
            Parameter(
                name="RETURN_FAIL",
                label="Failure text",
                help="If set, a reply containing this text means the gateway refused the message. "
                "Use either this or the success text.",
            ),
            Parameter(
                name="PARAMETER",
                label="Fixed parameters",
                kind="object",
                secret=True,
                default={},
                help="Names and values sent unchanged with every message, usually an account ID "
                "or password (write-only). A name may not also be an option.",
            ),
            Parameter(
                name="OPTIONS",
                label="Message options",
                kind="object",
                required=True,
                default={},
                help="Names and values sent per message; {phone} is replaced by the number, "
                "{otp} by the message text and {reference} (optional) by smsauth's own message "
                "ID, which a gateway can echo back in its delivery receipts, e.g. "
                '{"to": "{phone}", "text": "{otp}", "ref": "{reference}"}.',
            ),
            Parameter(
                name="SEND_DATA_AS_JSON",
                label="POST as JSON",
                kind="boolean",
                default=False,
                help="With POST, send the parameters as a JSON object instead of a form.",
            ),
            Parameter(
                name="PHONE_FORMAT",
                label="Phone number format",
                kind="choice",
                choices=("E164", "DIGITS"),
                default="E164",
                help="How {phone} is written: E164 (+447079692712) or DIGITS (447079692712).",
            ),
            Parameter(
                name="RESPONSE_ID_FIELD",
                label="Reply message ID field",
                help="The field of the gateway's JSON reply that holds its message ID (dotted "
                "names such as data.id reach into nested objects). smsauth stores it to match "
                "delivery receipts by RECEIPT_ID_FIELD.",
            ),
            *RECEIPT_PARAMETERS,
        ),
        receipts=True,
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        problems = []
        if urlsplit(config.url or "").scheme not in ("http", "https"):
            problems.append(ConfigProblem("url", "must be an http:// or https:// URL"))
        params = config.parameters
        if params.get("RETURN_SUCCESS") and params.get("RETURN_FAIL"):
            problems.append(
                ConfigProblem("parameters.RETURN_FAIL", "use either RETURN_SUCCESS or RETURN_FAIL")
            )
        fixed = set(params.get("PARAMETER") or {}) | set(config.extension_parameters)
        clash = sorted(fixed & set(params.get("OPTIONS") or {}))
        if clash:
            problems.append(
                ConfigProblem(
                    "parameters.OPTIONS",
                    f"a fixed parameter and an option have the same name: {', '.join(clash)}",
                )
            )
        values = " ".join((params.get("OPTIONS") or {}).values())
        for tag in REQUIRED_TAGS:
            if tag not in values:
                problems.append(ConfigProblem("parameters.OPTIONS", f"no option uses {tag}"))
        return problems + receipt_problems(config)

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        params = config.parameters
        phone = message.to if params.get("PHONE_FORMAT") != "DIGITS" else message.to.lstrip("+")
        payload = {**config.extension_parameters, **(params.get("PARAMETER") or {})}
        for name, template in (params.get("OPTIONS") or {}).items():
            payload[name] = substitute(template, phone, message.text, message.reference)
        auth = (config.username, config.password or "") if config.username else None
        assert config.url  # checked when saved
        if params.get("HTTP_METHOD") == "POST":
            as_json = params.get("SEND_DATA_AS_JSON")
            reply = await transport.request(
                config,
                "POST",
                config.url,
                data=None if as_json else payload,
                json_body=payload if as_json else None,
                auth=auth,
            )
        else:
            reply = await transport.request(config, "GET", config.url, params=payload, auth=auth)
        if failure := http_failure(reply, "the gateway"):
            return failure
        snippet = mask_numbers(reply.snippet)  # the reply may quote the number back
        success, fail = params.get("RETURN_SUCCESS"), params.get("RETURN_FAIL")
        if success and success not in reply.text:
            return Rejected(f"the reply does not contain the success text: {snippet}")
        if fail and fail in reply.text:
            return Rejected(f"the reply contains the failure text: {snippet}")
        return Accepted(
            provider_message_id=_message_id(reply, params.get("RESPONSE_ID_FIELD")),
            detail=reply.snippet or None,
        )

    def parse_receipts(self, request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
        return parse_receipts(request, config)


def _message_id(reply: HttpReply, field: str | None) -> str | None:
    """The gateway's message ID at ``field`` of a JSON reply; None when it is not there."""
    if not field:
        return None
    body = reply.json()
    return json_field(body, field) if isinstance(body, dict) else None


provider = HttpProvider()
