"""The ``instaalerts`` gateway type: the InstaAlerts (Karix) query-string HTTP API.

One message is one ``GET {url}/httpapi/QueryStringReceiver`` with ``ver=1.0``, ``key`` (the API
key), ``encrpt=0`` (the key is sent in clear), ``dest`` (digits with the country code, no plus),
``send`` (the sender ID), ``text`` and, for Indian DLT registrations, ``dlt_entity_id`` and
``dlt_template_id``. The reply is one line of text, for example
``Request accepted for Request ID=... & Statuscode=200 & Info=Platform Accepted & Time=...`` or
``Invalid Credentials for Request ID=N/A & Statuscode=-108 & Info=REJECTED & Time=...``: status
code 200 means accepted, anything else is a refusal.

Source: no public reference from the vendor was found (its HTTP API guide goes to account
holders). This module follows the form that independent public integrations use identically, for
example saravan-guidexpert/niatawards-backend ``src/lib/karix.ts`` (request parameters, DLT ids
and the two reply lines quoted above), a Laravel OTP sender and a PHP school ERP that reads the
request ID and status code 200 from the same reply. Check it against your account's API guide;
other pods are reached by changing the URL (e.g. ``https://pod2-japi.instaalerts.zone``).
"""

import re

from providers.base import (
    Accepted,
    BaseProvider,
    GatewayConfig,
    GatewayType,
    OutboundMessage,
    Parameter,
    Rejected,
    SendResult,
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport, http_failure

STATUS_CODE = re.compile(r"Statuscode\s*=\s*(-?\d+)", re.IGNORECASE)
REQUEST_ID = re.compile(r"Request ID\s*=\s*([^\s&]+)", re.IGNORECASE)


class InstaAlertsProvider(BaseProvider):
    type = GatewayType(
        key="instaalerts",
        name="InstaAlerts",
        default_url="https://japi.instaalerts.zone",
        required_fields=("senderId",),
        description="InstaAlerts (Karix) HTTP API. The sender ID is one approved for the account "
        "(My Account > Edit My Info > Sender IDs). Numbers are sent as digits with the country "
        "code.",
        parameters=(
            Parameter(
                name="APIKEY",
                label="API key",
                required=True,
                secret=True,
                help="The account's HTTP API key (write-only).",
            ),
            Parameter(
                name="DLT_ENTITY_ID",
                label="DLT entity ID",
                required=False,
                secret=False,
                help="For messages to India: the principal entity ID registered on the DLT "
                "platform. Sent only when set.",
            ),
            Parameter(
                name="DLT_TEMPLATE_ID",
                label="DLT template ID",
                required=False,
                secret=False,
                help="For messages to India: the DLT content template ID that matches the "
                "message text. Sent only when set.",
            ),
        ),
    )

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        assert config.url and config.sender_id  # checked when saved
        params = config.parameters
        query = {
            "ver": "1.0",
            "key": params["APIKEY"],
            "encrpt": "0",
            "dest": message.to.lstrip("+"),
            "send": config.sender_id,
            "text": message.text,
        }
        for name in ("DLT_ENTITY_ID", "DLT_TEMPLATE_ID"):
            if params.get(name):
                query[name.lower()] = params[name]
        reply = await transport.request(
            config, "GET", f"{config.url.rstrip('/')}/httpapi/QueryStringReceiver", params=query
        )
        return _judged(reply)


def _judged(reply: HttpReply) -> SendResult:
    """The HTTP status says whether the platform answered, the reply's ``Statuscode`` the rest."""
    if failure := http_failure(reply, "InstaAlerts"):
        return failure
    code = STATUS_CODE.search(reply.text)
    if code is None:
        return Rejected(f"not an InstaAlerts reply: {mask_numbers(reply.snippet)}")
    if code.group(1) != "200":
        return Rejected(f"InstaAlerts status {code.group(1)}: {mask_numbers(reply.snippet)}")
    request_id = REQUEST_ID.search(reply.text)
    return Accepted(provider_message_id=request_id.group(1) if request_id else None)


provider = InstaAlertsProvider()
