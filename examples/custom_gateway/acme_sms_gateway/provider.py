"""The ``acme`` gateway type: the (fictional) Acme SMS JSON API, shipped as a plug-in package.

One message is one ``POST {url}/messages`` with the header ``Authorization: Bearer <API_TOKEN>``
and the JSON body ``{"from", "to", "text", "reference", "region"}``. Acme answers 201 with
``{"id": "..."}``, 4xx with ``{"error": "..."}`` when it refuses the message, and 429 or 5xx when
it is busy. smsauth finds this module through the entry point in ``pyproject.toml``.
"""

from typing import Any

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
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport, http_failure


class AcmeProvider(BaseProvider):
    type = GatewayType(
        key="acme",
        name="Acme SMS",
        default_url="https://api.acme-sms.example/v1",
        required_fields=("senderId",),
        description="Acme SMS's JSON API (an example plug-in). The sender ID is the name (at most "
        "11 characters) or the number the phone shows.",
        parameters=(
            Parameter(
                name="API_TOKEN",
                label="API token",
                required=True,
                secret=True,
                help="The API token from Acme's console (write-only).",
            ),
            Parameter(
                name="REGION",
                label="Data region",
                kind="choice",
                choices=("EU", "US"),
                default="EU",
                help="Where Acme keeps the messages.",
            ),
            Parameter(
                name="DAILY_LIMIT",
                label="Daily limit",
                kind="integer",
                help="Messages per gateway per UTC day; empty for no limit.",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        """The rules smsauth cannot check field by field; each problem names its field."""
        problems = []
        limit = config.parameters.get("DAILY_LIMIT")
        if limit is not None and limit < 1:
            problems.append(ConfigProblem("parameters.DAILY_LIMIT", "must be at least 1"))
        sender = config.sender_id or ""
        if not sender.removeprefix("+").isdigit() and len(sender) > 11:
            problems.append(ConfigProblem("senderId", "a sender name has at most 11 characters"))
        return problems

    def daily_quota(self, config: GatewayConfig) -> int | None:
        return config.parameters.get("DAILY_LIMIT")

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        assert config.url  # the default URL, or the one the gateway set
        reply = await transport.request(
            config,
            "POST",
            f"{config.url.rstrip('/')}/messages",
            json_body={
                "from": config.sender_id,
                "to": message.to,
                "text": message.text,
                "reference": message.reference,
                "region": config.parameters["REGION"],
            },
            headers={"Authorization": f"Bearer {config.parameters['API_TOKEN']}"},
        )
        return judged(reply)


def judged(reply: HttpReply) -> SendResult:
    """Acme's reply as a result; reasons never quote a whole phone number."""
    body: Any = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    if failure := http_failure(reply, "Acme SMS", str(error or reply.snippet)):
        return failure  # 429 and 5xx are Unavailable, other non-2xx Rejected, numbers masked
    if reply.status != 201:  # Acme answers 201 for a message it took
        return Rejected(f"HTTP {reply.status}: {mask_numbers(str(error or reply.snippet))}")
    if not isinstance(body, dict) or not body.get("id"):
        return Rejected(f"HTTP 201 without a message ID: {mask_numbers(reply.snippet)}")
    return Accepted(provider_message_id=str(body["id"]))


provider = AcmeProvider()
