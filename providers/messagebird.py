"""The ``messagebird`` gateway type: MessageBird's (Bird's) SMS Messaging API.

One message is one ``POST {url}/messages`` with the header ``Authorization: AccessKey <key>`` and a
JSON body: ``recipients`` (the number in digits, no plus), ``originator``, ``body``, ``reference``
and, when smsauth has a public URL, ``reportUrl``. MessageBird answers 201 with the new message (its
``id``) or ``{"errors": [{"code", "description", "parameter"}]}``. Sources: MessageBird's own Python
client (``messagebird/python-rest-api``: JSON body, ``AccessKey`` header, recipients joined with
commas) and its API reference's originator rule: a phone number with its country code, or an
alphanumeric string of at most 11 characters.

Delivery receipts are MessageBird's status reports: a ``GET`` of the ``reportUrl`` with the query
parameters ``id``, ``reference``, ``recipient``, ``status``, ``statusDatetime`` and, for failures,
``statusReason`` and ``statusErrorCode``. Each request carries ``MessageBird-Signature-JWT``: a JWT
signed (HS256, HS384 or HS512) with the account's signing key (not the access key), whose claims
are ``iss`` ("MessageBird"), ``nbf``, ``exp``, ``jti``, ``url_hash`` (the hex SHA-256 of the full
URL) and, only when there is a body, ``payload_hash`` (the hex SHA-256 of the body). Sources:
MessageBird's "Verify HTTP requests" (https://developers.messagebird.com/docs/verify-http-requests)
as implemented by its SDKs (python-rest-api ``RequestValidator``, whose published test vectors
``tests/test_request_validator/webhook_signature_test_data.json`` this module passes, and
go-rest-api ``signature_jwt``), and Bird's support article "I am missing my delivery reports".
"""

import hashlib
import hmac
import re
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

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
    ReceiptMalformed,
    ReceiptRejected,
    ReceiptStatus,
    Rejected,
    SendResult,
    mask_numbers,
)
from providers.transport import HttpTransport, http_failure, listed_errors

NUMERIC_ORIGINATOR = re.compile(r"\+?\d{1,15}")
ALPHANUMERIC_ORIGINATOR = re.compile(r"[A-Za-z0-9 ]{1,11}")
SIGNATURE_HEADER = "MessageBird-Signature-JWT"
SIGNATURE_ALGORITHMS = ("HS256", "HS384", "HS512")
LEEWAY_SECONDS = 5  # clock difference tolerated on nbf and exp
#: A recipient's status in MessageBird's SMS API as smsauth's.
RECEIPT_STATUSES: dict[str, ReceiptStatus] = {
    "scheduled": "SENT",
    "sent": "SENT",
    "buffered": "SENT",
    "delivered": "DELIVERED",
    "expired": "UNDELIVERED",
    "delivery_failed": "UNDELIVERED",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_signature(
    token: str, url: str, body: bytes, signing_key: str, now: float | None = None
) -> dict[str, Any]:
    """The claims of a ``MessageBird-Signature-JWT`` that signs this URL and body; else raise.

    ``now`` (a Unix time) is for tests; ``ReceiptRejected`` says what does not match.
    """
    try:
        key = OctKey.import_key(signing_key.encode())
        claims = jwt.decode(token, key, algorithms=SIGNATURE_ALGORITHMS).claims
    except (JoseError, ValueError):
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} is not signed with this key") from None
    now = time.time() if now is None else now
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if claims.get("iss") != "MessageBird":
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} was not issued by MessageBird")
    if not isinstance(nbf, int | float) or not isinstance(exp, int | float):
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} has no validity period")
    if now + LEEWAY_SECONDS < nbf or now - LEEWAY_SECONDS >= exp:
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} is not valid now")
    if not _same_hash(claims.get("url_hash"), _sha256(url.encode())):
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} signs another URL")
    payload_hash = claims.get("payload_hash")
    if (payload_hash is not None) != bool(body) or (
        body and not _same_hash(payload_hash, _sha256(body))
    ):
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} signs another body")
    return claims


def _same_hash(claimed: object, actual: str) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(claimed.encode(), actual.encode())


class MessageBirdProvider(BaseProvider):
    type = GatewayType(
        key="messagebird",
        name="MessageBird",
        default_url="https://rest.messagebird.com",
        required_fields=("password", "senderId"),
        description="MessageBird's SMS Messaging API. The password is a live access key. The "
        "sender ID is the originator: a phone number with its country code (digits only, up to "
        "15), or a name of up to 11 letters, digits and spaces. The 11-character limit applies "
        "to the name, not to phone numbers.",
        receipts=True,
        parameters=(
            Parameter(
                name="SIGNING_KEY",
                label="Signing key",
                secret=True,
                help="The account's signing key from Developers > Settings (not the access key, "
                "write-only). MessageBird signs its status reports with it; without it smsauth "
                "refuses them.",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        originator = config.sender_id or ""
        if NUMERIC_ORIGINATOR.fullmatch(originator) or (
            ALPHANUMERIC_ORIGINATOR.fullmatch(originator) and not originator.isspace()
        ):
            return []
        return [
            ConfigProblem(
                "senderId",
                "MessageBird's originator must be a phone number in digits with its country code "
                "or at most 11 letters, digits and spaces",
            )
        ]

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        assert config.url and config.password  # checked when saved
        payload = {
            "recipients": message.to.lstrip("+"),
            "originator": config.sender_id,
            "body": message.text,
            "reference": message.reference,
        }
        if message.callback_url is not None:
            payload["reportUrl"] = message.callback_url
        reply = await transport.request(
            config,
            "POST",
            f"{config.url.rstrip('/')}/messages",
            json_body=payload,
            headers={"Authorization": f"AccessKey {config.password}"},
        )
        errors = listed_errors(reply, "MessageBird", "description")
        if failure := http_failure(reply, "MessageBird", errors):
            return failure
        body = reply.json()
        if not isinstance(body, dict) or not body.get("id"):
            snippet = mask_numbers(reply.snippet)
            return Rejected(f"HTTP {reply.status} without a message ID: {snippet}")
        return Accepted(provider_message_id=str(body["id"]))

    def parse_receipts(self, request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
        """One status report: the signature first, then ``id``, ``reference`` and ``status``."""
        signing_key = config.parameters.get("SIGNING_KEY")
        if not signing_key:
            raise ReceiptRejected("the gateway has no SIGNING_KEY to check status reports with")
        token = request.header(SIGNATURE_HEADER)
        if not token:
            raise ReceiptRejected(f"the request has no {SIGNATURE_HEADER} header")
        verify_signature(token, request.url, request.body, signing_key)
        message_id, status = request.param("id"), request.param("status")
        if not message_id or not status:
            raise ReceiptMalformed("not a MessageBird status report: no id or status")
        detail = status
        if request.param("statusReason"):
            detail += f": {request.param('statusReason')}"
        if request.param("statusErrorCode"):
            detail += f" (error {request.param('statusErrorCode')})"
        return [
            Receipt(
                provider_message_id=message_id,
                status=RECEIPT_STATUSES.get(status.lower(), "SENT"),
                detail=mask_numbers(detail),
                reference=request.param("reference") or None,
            )
        ]


provider = MessageBirdProvider()
