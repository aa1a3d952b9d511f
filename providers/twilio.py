"""The ``twilio`` gateway type: Twilio's Messages resource (REST API version 2010-04-01).

One message is one ``POST {url}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with the form
fields ``To``, ``Body``, ``From`` or ``MessagingServiceSid``, and ``StatusCallback`` when smsauth
has a public URL, authenticated with HTTP basic auth ``AccountSid:AuthToken``. Twilio answers 201
with the new Message (its ``sid``) or an error ``{"code", "message", "more_info", "status"}``.
Source: Twilio's "Messages resource" API reference and twilio-go's ``AccountsMessagesApi.md``.

Delivery receipts are Twilio's status callbacks: a form POST to the ``StatusCallback`` URL with
``MessageSid``, ``MessageStatus`` and, for failures, ``ErrorCode``, signed in the header
``X-Twilio-Signature``: the Base64 HMAC-SHA1, keyed with the Auth Token, of the full URL followed
by every POST parameter's name and value, sorted by name. Sources: Twilio's "Secure webhooks" page
(https://www.twilio.com/docs/usage/webhooks/webhooks-security) and twilio-python's
``RequestValidator``, which also accepts the URL with and without its default port.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

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
from providers.transport import HttpReply, HttpTransport, http_failure

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
SIGNATURE_HEADER = "X-Twilio-Signature"
#: Twilio's message statuses (the Message resource's ``status`` enum) as smsauth's.
RECEIPT_STATUSES: dict[str, ReceiptStatus] = {
    "accepted": "SENT",
    "scheduled": "SENT",
    "queued": "SENT",
    "sending": "SENT",
    "sent": "SENT",
    "delivered": "DELIVERED",
    "read": "DELIVERED",
    "undelivered": "UNDELIVERED",
    "failed": "FAILED",
    "canceled": "FAILED",
}


def _error(reply: HttpReply) -> str:
    """Twilio's error code and message, else the start of the reply; never a full number."""
    body: Any = reply.json()
    if isinstance(body, dict) and "code" in body:
        return mask_numbers(f"Twilio error {body['code']}: {body.get('message', '')}")
    return mask_numbers(reply.snippet)


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` of a request to ``url`` with these POST parameters."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _signed_urls(url: str) -> set[str]:
    """The URL as given, without its port and with the scheme's default port.

    Twilio signs some requests with the port and some without, so its own validators try both.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    default_port = 443 if parts.scheme == "https" else 80
    return {
        url,
        parts._replace(netloc=f"{prefix}{host}").geturl(),
        parts._replace(netloc=f"{prefix}{host}:{parts.port or default_port}").geturl(),
    }


def _verify(request: InboundRequest, auth_token: str | None) -> None:
    if not auth_token:  # an empty HMAC key would let anyone sign
        raise ReceiptRejected("the gateway has no Auth Token to check signatures with")
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise ReceiptRejected(f"the request has no {SIGNATURE_HEADER} header")
    if not any(
        hmac.compare_digest(signature(auth_token, url, request.form).encode(), given.encode())
        for url in _signed_urls(request.url)
    ):
        raise ReceiptRejected(f"the {SIGNATURE_HEADER} does not match this Auth Token")


class TwilioProvider(BaseProvider):
    type = GatewayType(
        key="twilio",
        name="Twilio",
        default_url="https://api.twilio.com",
        required_fields=("accountId", "password"),
        receipts=True,
        description="Twilio's Programmable Messaging API. The account ID is the Account SID "
        "(AC...), the password is the Auth Token, and the sender ID is the From number, unless "
        "the messages go out through a Messaging Service.",
        parameters=(
            Parameter(
                name="MESSAGING_SERVICE_SID",
                label="Messaging Service SID",
                required=False,
                secret=False,
                help="The SID of a Messaging Service (MG followed by 32 hexadecimal characters) "
                "to send through instead of a From number. Set either this or the sender ID.",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        problems = []
        if config.account_id and not ACCOUNT_SID.fullmatch(config.account_id):
            problems.append(
                ConfigProblem(
                    "accountId", "must be an Account SID: AC followed by 32 hexadecimal characters"
                )
            )
        service = config.parameters.get("MESSAGING_SERVICE_SID")
        if service and not SERVICE_SID.fullmatch(service):
            problems.append(
                ConfigProblem(
                    "parameters.MESSAGING_SERVICE_SID",
                    "must be a Messaging Service SID: MG followed by 32 hexadecimal characters",
                )
            )
        if service and config.sender_id:
            problems.append(
                ConfigProblem(
                    "parameters.MESSAGING_SERVICE_SID",
                    "use either a From number (senderId) or MESSAGING_SERVICE_SID, not both",
                )
            )
        if not service and not config.sender_id:
            problems.append(
                ConfigProblem("senderId", "set a From number here or MESSAGING_SERVICE_SID")
            )
        return problems

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        assert config.url and config.account_id and config.password  # checked when saved
        url = (
            f"{config.url.rstrip('/')}/2010-04-01/Accounts/"
            f"{quote(config.account_id, safe='')}/Messages.json"
        )
        form = {"To": message.to, "Body": message.text}
        service = config.parameters.get("MESSAGING_SERVICE_SID")
        if service:
            form["MessagingServiceSid"] = service
        else:
            form["From"] = config.sender_id or ""
        if message.callback_url is not None:
            form["StatusCallback"] = message.callback_url
        reply = await transport.request(
            config, "POST", url, data=form, auth=(config.account_id, config.password)
        )
        if failure := http_failure(reply, "Twilio", _error(reply)):
            return failure
        body = reply.json()
        if not isinstance(body, dict) or not body.get("sid"):
            snippet = mask_numbers(reply.snippet)
            return Rejected(f"HTTP {reply.status} without a message SID: {snippet}")
        return Accepted(provider_message_id=str(body["sid"]))

    def parse_receipts(self, request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
        """One status callback: the signature first, then ``MessageSid`` and ``MessageStatus``."""
        _verify(request, config.password)
        sid, status = request.param("MessageSid"), request.param("MessageStatus")
        if not sid or not status:
            raise ReceiptMalformed("not a Twilio status callback: no MessageSid or MessageStatus")
        detail = status
        if request.param("ErrorCode"):
            detail += f": Twilio error {request.param('ErrorCode')}"
            if request.param("ErrorMessage"):
                detail += f" {request.param('ErrorMessage')}"
        return [
            Receipt(
                provider_message_id=sid,
                status=RECEIPT_STATUSES.get(status.lower(), "SENT"),
                detail=mask_numbers(detail),
            )
        ]


provider = TwilioProvider()
