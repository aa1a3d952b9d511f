"""The ``textlocal`` gateway type: Textlocal's Send SMS command (api.txtlocal.com, API 2).

One message is one ``POST {url}/send/`` form with the credentials (``apikey``, or ``username`` and
``hash``), ``numbers`` (digits with the country code, no plus), ``message``, ``sender`` when set,
``custom`` (smsauth's reference, echoed in delivery receipts) and ``receipt_url`` when smsauth has a
public URL. Textlocal answers HTTP 200 in both cases, with ``{"status": "success", "messages":
[{"id", "recipient"}], ...}`` or ``{"status": "failure", "errors": [{"code", "message"}]}``.
Source: Textlocal's API documentation, "Send SMS" (https://api.txtlocal.com/docs/sendsms).
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
    Unavailable,
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport


def _error(reply: HttpReply) -> str:
    """Textlocal's error codes and messages, else the start of the reply."""
    body: Any = reply.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return mask_numbers(
            "; ".join(
                f"Textlocal error {e.get('code')}: {e.get('message', '')}"
                for e in errors
                if isinstance(e, dict)
            )
        )
    return mask_numbers(reply.snippet)


def _sender_problem(sender: str) -> str | None:
    if sender.isdigit():
        return None if 3 <= len(sender) <= 13 else "a numeric sender must have 3 to 13 digits"
    return None if 3 <= len(sender) <= 11 else "a sender name must have 3 to 11 characters"


class TextlocalProvider(BaseProvider):
    type = GatewayType(
        key="textlocal",
        name="Textlocal",
        default_url="https://api.txtlocal.com",
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


def _judged(reply: HttpReply) -> SendResult:
    """Textlocal answers 200 for refusals too: the JSON ``status`` decides."""
    if reply.status == 429 or reply.status >= 500:
        return Unavailable(f"HTTP {reply.status} from Textlocal: {_error(reply)}")
    if not 200 <= reply.status < 300:
        return Rejected(f"HTTP {reply.status}: {_error(reply)}")
    body = reply.json()
    status = body.get("status") if isinstance(body, dict) else None
    if status == "failure":
        return Rejected(_error(reply))
    if status != "success":
        return Rejected(f"not a Textlocal reply: {mask_numbers(reply.snippet)}")
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else {}
    found = first.get("id") if isinstance(first, dict) else None
    return Accepted(provider_message_id=str(found) if found is not None else None)


provider = TextlocalProvider()
