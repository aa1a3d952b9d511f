"""The ``twilio`` gateway type: Twilio's Messages resource (REST API version 2010-04-01).

One message is one ``POST {url}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with the form
fields ``To``, ``Body``, ``From`` or ``MessagingServiceSid``, and ``StatusCallback`` when smsauth
has a public URL, authenticated with HTTP basic auth ``AccountSid:AuthToken``. Twilio answers 201
with the new Message (its ``sid``) or an error ``{"code", "message", "more_info", "status"}``.
Source: Twilio's "Messages resource" API reference and twilio-go's ``AccountsMessagesApi.md``.
"""

import re
from typing import Any
from urllib.parse import quote

from providers.base import (
    Accepted,
    BaseProvider,
    ConfigProblem,
    GatewayConfig,
    GatewayType,
    OutboundMessage,
    Parameter,
    Rejected,
    SendResult,
    Unavailable,
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


def _error(reply: HttpReply) -> str:
    """Twilio's error code and message, else the start of the reply; never a full number."""
    body: Any = reply.json()
    if isinstance(body, dict) and "code" in body:
        return mask_numbers(f"Twilio error {body['code']}: {body.get('message', '')}")
    return mask_numbers(reply.snippet)


class TwilioProvider(BaseProvider):
    type = GatewayType(
        key="twilio",
        name="Twilio",
        default_url="https://api.twilio.com",
        required_fields=("accountId", "password"),
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
        if reply.status == 429 or reply.status >= 500:
            return Unavailable(f"HTTP {reply.status} from Twilio: {_error(reply)}")
        if not 200 <= reply.status < 300:
            return Rejected(f"HTTP {reply.status}: {_error(reply)}")
        body = reply.json()
        if not isinstance(body, dict) or not body.get("sid"):
            snippet = mask_numbers(reply.snippet)
            return Rejected(f"HTTP {reply.status} without a message SID: {snippet}")
        return Accepted(provider_message_id=str(body["sid"]))


provider = TwilioProvider()
