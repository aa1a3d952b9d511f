"""The ``sipgate`` provider: an SMS through sipgate's XML-RPC API (``samurai.SessionInitiate``).

The call is the one privacyIDEA's Sipgate provider makes: one struct with ``RemoteUri``
``sip:<number without +>@sipgate.net``, ``TOS`` ``text`` and ``Content`` (the message text), sent
with HTTP basic authentication over the shared HTTP transport, so the gateway's proxy, TLS check
and timeout apply. (privacyIDEA writes the host as ``sipgate.de``; sipgate's examples and most
clients use ``sipgate.net``.) A sender ID, when set, goes in ``LocalUri`` the same way. A reply
struct with ``StatusCode`` 200 means the message was taken; its ``SessionID`` is the message ID.
"""

import xmlrpc.client
from xml.parsers.expat import ExpatError

from providers.base import (
    Accepted,
    BaseProvider,
    GatewayConfig,
    GatewayType,
    OutboundMessage,
    Rejected,
    SendResult,
    mask_numbers,
)
from providers.transport import HttpReply, HttpTransport, http_failure

DEFAULT_URL = "https://samurai.sipgate.net/RPC2"
METHOD = "samurai.SessionInitiate"
SIP_DOMAIN = "sipgate.net"


def sip_uri(number: str) -> str:
    """The SIP URI sipgate expects for a number: digits only, no leading plus sign."""
    return f"sip:{number.strip().lstrip('+')}@{SIP_DOMAIN}"


def request_body(message: OutboundMessage, config: GatewayConfig) -> bytes:
    """The XML-RPC call as UTF-8 bytes."""
    session: dict[str, str] = {
        "RemoteUri": sip_uri(message.to),
        "TOS": "text",
        "Content": message.text,
    }
    if config.sender_id:
        session["LocalUri"] = sip_uri(config.sender_id)
    return xmlrpc.client.dumps((session,), methodname=METHOD).encode("utf-8")


def _judge(reply: HttpReply) -> SendResult:
    """The result for a reply with HTTP status 200: the struct's StatusCode decides."""
    try:
        (result,), _ = xmlrpc.client.loads(reply.text)
    except xmlrpc.client.Fault as fault:
        text = mask_numbers(str(fault.faultString))
        return Rejected(f"sipgate refused the message: fault {fault.faultCode}: {text}")
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError):  # not XML-RPC
        return Rejected(f"the reply is not an XML-RPC answer: {mask_numbers(reply.snippet)}")
    if not isinstance(result, dict):
        return Rejected(f"the reply is not an XML-RPC struct: {mask_numbers(reply.snippet)}")
    status = result.get("StatusCode")
    if status != 200:
        text = mask_numbers(str(result.get("StatusString") or "no status text"))
        return Rejected(f"sipgate refused the message: status {status}: {text}")
    session = result.get("SessionID")
    return Accepted(provider_message_id=str(session) if session else None)


class SipgateProvider(BaseProvider):
    type = GatewayType(
        key="sipgate",
        name="sipgate (XML-RPC)",
        default_url=DEFAULT_URL,
        required_fields=("username", "password"),
        description="Sends SMS through sipgate's XML-RPC interface with the account's sipgate "
        "user name and password. If the sender ID is set it is sent as the local SIP URI.",
    )

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: HttpTransport
    ) -> SendResult:
        assert config.url  # the default URL, or the one the gateway set
        reply = await transport.request(
            config,
            "POST",
            config.url,
            data=request_body(message, config),
            headers={"Content-Type": "text/xml"},
            auth=(config.username or "", config.password or ""),
        )
        if reply.status in (401, 403):
            return Rejected(f"HTTP {reply.status}: sipgate refused the user name or password")
        if failure := http_failure(reply, "sipgate"):
            return failure
        if reply.status != 200:  # XML-RPC answers 200 only
            return Rejected(f"HTTP {reply.status}: {mask_numbers(reply.snippet)}")
        return _judge(reply)


provider = SipgateProvider()
