"""The ``messagebird`` gateway type: MessageBird's (Bird's) SMS Messaging API.

One message is one ``POST {url}/messages`` with the header ``Authorization: AccessKey <key>`` and a
JSON body: ``recipients`` (the number in digits, no plus), ``originator``, ``body``, ``reference``
and, when smsauth has a public URL, ``reportUrl``. MessageBird answers 201 with the new message (its
``id``) or ``{"errors": [{"code", "description", "parameter"}]}``. Sources: MessageBird's own Python
client (``messagebird/python-rest-api``: JSON body, ``AccessKey`` header, recipients joined with
commas) and its API reference's originator rule: a phone number with its country code, or an
alphanumeric string of at most 11 characters.
"""

import re
from typing import Any

from providers.base import (
    Accepted,
    BaseProvider,
    ConfigProblem,
    GatewayConfig,
    GatewayType,
    OutboundMessage,
    Rejected,
    SendResult,
    Unavailable,
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport

NUMERIC_ORIGINATOR = re.compile(r"\+?\d{1,15}")
ALPHANUMERIC_ORIGINATOR = re.compile(r"[A-Za-z0-9 ]{1,11}")


def _error(reply: HttpReply) -> str:
    """MessageBird's error codes and descriptions, else the start of the reply."""
    body: Any = reply.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return mask_numbers(
            "; ".join(
                f"MessageBird error {e.get('code')}: {e.get('description', '')}"
                for e in errors
                if isinstance(e, dict)
            )
        )
    return mask_numbers(reply.snippet)


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
        if reply.status == 429 or reply.status >= 500:
            return Unavailable(f"HTTP {reply.status} from MessageBird: {_error(reply)}")
        if not 200 <= reply.status < 300:
            return Rejected(f"HTTP {reply.status}: {_error(reply)}")
        body = reply.json()
        if not isinstance(body, dict) or not body.get("id"):
            snippet = mask_numbers(reply.snippet)
            return Rejected(f"HTTP {reply.status} without a message ID: {snippet}")
        return Accepted(provider_message_id=str(body["id"]))


provider = MessageBirdProvider()
