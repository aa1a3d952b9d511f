"""The ``textlocal`` gateway type: Textlocal's Send SMS command (api.txtlocal.com, API 2).

One message is one ``POST {url}/send/`` form with the credentials (``apikey``, or ``username`` and
``hash``), ``numbers`` (digits with the country code, no plus), ``message``, ``sender`` when set,
``custom`` (smsauth's reference, echoed in delivery receipts) and ``receipt_url`` when smsauth has a
public URL. Textlocal answers HTTP 200 in both cases, with ``{"status": "success", "messages":
[{"id", "recipient"}], ...}`` or ``{"status": "failure", "errors": [{"code", "message"}]}``.
Source: Textlocal's API documentation, "Send SMS" (https://api.txtlocal.com/docs/sendsms).

Delivery receipts are form POSTs to the ``receipt_url`` with ``number``, ``status`` (one letter),
``customID`` (the ``custom`` value sent, that is smsauth's reference) and ``datetime``. They carry
no message ID and no signature: smsauth matches them by reference and trusts them through the token
in its webhook URL. Sources: Textlocal's "Handling Receipts"
(https://api.txtlocal.com/docs/handlingreceipts) and its knowledge-base article "Checking your
delivery receipts" for the letters.
"""

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
    ReceiptStatus,
    Rejected,
    SendResult,
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport, http_failure, listed_errors

#: Textlocal's receipt letters: smsauth's status and what Textlocal says the letter means.
RECEIPT_STATUSES: dict[str, tuple[ReceiptStatus, str]] = {
    "D": ("DELIVERED", "delivered to the handset"),
    "U": ("UNDELIVERED", "undelivered: expired at the operator after 48 hours"),
    "E": ("UNDELIVERED", "expired at the operator after the validity period"),
    "I": ("FAILED", "invalid number: badly formatted or on no mobile network"),
    "P": ("SENT", "pending"),
    "?": ("SENT", "no delivery receipt from the operator"),
}


def _sender_problem(sender: str) -> str | None:
    if sender.isdigit():
        return None if 3 <= len(sender) <= 13 else "a numeric sender must have 3 to 13 digits"
    return None if 3 <= len(sender) <= 11 else "a sender name must have 3 to 11 characters"


class TextlocalProvider(BaseProvider):
    type = GatewayType(
        key="textlocal",
        name="Textlocal",
        default_url="https://api.txtlocal.com",
        receipts=True,
        description="Textlocal's messaging API. Authenticate with an API key, or with the account "
        "user name (the login e-mail address) and its API hash. Indian accounts use "
        "https://api.textlocal.in. The sender ID is optional: without it Textlocal uses the "
        "account's default sender.",
        parameters=(
            Parameter(
                name="APIKEY",
                label="API key",
                required=False,
                secret=True,
                help="An API key from Settings > API Keys (write-only). Set either this, or the "
                "user name and HASH.",
            ),
            Parameter(
                name="HASH",
                label="API hash",
                required=False,
                secret=True,
                help="The account's API hash from Help > All Documentation, used with the user "
                "name instead of an API key (write-only).",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        problems = []
        apikey, hash_ = config.parameters.get("APIKEY"), config.parameters.get("HASH")
        if apikey and (config.username or hash_):
            problems.append(
                ConfigProblem(
                    "parameters.APIKEY", "use either APIKEY or the user name and HASH, not both"
                )
            )
        elif not apikey and not config.username and not hash_:
            problems.append(
                ConfigProblem("parameters.APIKEY", "set APIKEY, or the user name and HASH")
            )
        elif not apikey and not hash_:
            problems.append(ConfigProblem("parameters.HASH", "the user name needs its HASH"))
        elif not apikey and not config.username:
            problems.append(ConfigProblem("username", "HASH needs the account's user name"))
        sender_problem = _sender_problem(config.sender_id) if config.sender_id else None
        if sender_problem:
            problems.append(ConfigProblem("senderId", sender_problem))
        return problems

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        assert config.url  # the default URL, or the one the gateway set
        params = config.parameters
        if params.get("APIKEY"):
            form = {"apikey": params["APIKEY"]}
        else:
            form = {"username": config.username or "", "hash": params.get("HASH") or ""}
        form |= {
            "numbers": message.to.lstrip("+"),
            "message": message.text,
            "custom": message.reference,
        }
        if config.sender_id:
            form["sender"] = config.sender_id
        if message.callback_url is not None:
            form["receipt_url"] = message.callback_url
        reply = await transport.request(
            config, "POST", f"{config.url.rstrip('/')}/send/", data=form
        )
        return _judged(reply)

    def parse_receipts(self, request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
        """One receipt, matched by ``customID``: Textlocal sends no message ID and no signature."""
        status, reference = request.param("status"), request.param("customID")
        if not status:
            raise ReceiptMalformed("not a Textlocal receipt: no status")
        if not reference:
            raise ReceiptMalformed("the Textlocal receipt has no customID to match a message by")
        mapped, meaning = RECEIPT_STATUSES.get(status.upper(), ("SENT", "unknown status"))
        return [
            Receipt(
                provider_message_id=None,
                status=mapped,
                detail=mask_numbers(f"{status}: {meaning}"),
                reference=reference,
            )
        ]


def _judged(reply: HttpReply) -> SendResult:
    """Textlocal answers 200 for refusals too: the JSON ``status`` decides."""
    errors = listed_errors(reply, "Textlocal", "message")
    if failure := http_failure(reply, "Textlocal", errors):
        return failure
    body = reply.json()
    status = body.get("status") if isinstance(body, dict) else None
    if status == "failure":
        return Rejected(errors)
    if status != "success":
        return Rejected(f"not a Textlocal reply: {mask_numbers(reply.snippet)}")
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else {}
    found = first.get("id") if isinstance(first, dict) else None
    return Accepted(provider_message_id=str(found) if found is not None else None)


provider = TextlocalProvider()
