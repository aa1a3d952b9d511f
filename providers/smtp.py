"""The ``smtp`` provider: email-to-SMS, one mail per message to a gateway address over SMTP.

As in privacyIDEA, ``MAILTO``, ``SUBJECT`` and ``BODY`` may hold the tags ``{phone}`` (the number in
E.164) and ``{otp}`` (the message text); only those tags are replaced. The mail goes straight to
the configured SMTP server with aiosmtplib (not through the HTTP transport, so no proxy), with the
gateway's TLS check and timeout, on a socket connected to an address the transport permits
(``transport.permit``, the SSRF guard). Connection failures and timeouts raise ``TransportError``;
SMTP replies 4xx are ``Unavailable`` and 5xx are ``Rejected``, with the server's reply as reason.
"""

import asyncio
import socket
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

import aiosmtplib

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
    Transport,
    Unavailable,
    mask_numbers,
)
from providers.destinations import connect_socket
from providers.http import substitute
from providers.transport import TransportError, permitted_addresses

SAMPLE_PHONE, SAMPLE_TEXT = "+447079692712", "123456"
NOT_IN_ADDRESS = set(' \t\r\n<>,;:"()[]\\')
#: TLS_MODE -> (use_tls, start_tls) for aiosmtplib; STARTTLS is required, never opportunistic.
TLS_MODES = {"NONE": (False, False), "STARTTLS": (False, True), "TLS": (True, False)}


def mailbox(value: str) -> str | None:
    """The address in ``a@b`` or ``Name <a@b>``, or None when it does not look like one."""
    if "\r" in value or "\n" in value:
        return None
    found = getaddresses([value])
    if len(found) != 1:
        return None
    address = found[0][1]
    local, _, domain = address.rpartition("@")
    if not local or not domain or NOT_IN_ADDRESS & set(local + domain) or "@" in local:
        return None
    return address


def one_line(value: str) -> str:
    """A header value: line breaks (from the message text, say) become spaces."""
    return value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def compose(message: OutboundMessage, params: Mapping[str, Any], recipient: str) -> EmailMessage:
    """The mail: From, To, Subject, Date, a fresh Message-ID and the plain-text body."""
    mail = EmailMessage()
    sender = params["MAILFROM"]
    mail["From"] = sender
    mail["To"] = recipient
    mail["Subject"] = one_line(substitute(params.get("SUBJECT") or "", message.to, message.text))
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(
        domain=(mailbox(sender) or "smsauth.invalid").rpartition("@")[2]
    )
    mail.set_content(substitute(params.get("BODY") or "", message.to, message.text))
    return mail


def _reply(code: int, text: str) -> SendResult:
    """An SMTP error reply, numbers masked: 4xx is temporary, anything else a refusal."""
    reason = f"SMTP {code}: {mask_numbers(' '.join(text.split())[:300])}"
    return Unavailable(reason) if 400 <= code < 500 else Rejected(reason)


class SmtpProvider(BaseProvider):
    type = GatewayType(
        key="smtp",
        name="Email to SMS (SMTP)",
        url_editable=False,
        description="Sends each message as an email to an email-to-SMS gateway through an SMTP "
        "server. The account's user name and password are used to log in when the user name is "
        "set. The gateway's proxy is not used.",
        parameters=(
            Parameter(
                name="SMTP_HOST",
                label="SMTP server",
                required=True,
                destination=True,
                help="Host name or IP.",
            ),
            Parameter(
                name="SMTP_PORT",
                label="SMTP port",
                kind="integer",
                default=25,
                help="Usually 25 or 587 with STARTTLS, 465 with TLS.",
            ),
            Parameter(
                name="TLS_MODE",
                label="TLS mode",
                kind="choice",
                choices=tuple(TLS_MODES),
                default="STARTTLS",
                help="STARTTLS upgrades the connection (the server must offer it), TLS connects "
                "with TLS from the start, NONE sends in the clear.",
            ),
            Parameter(
                name="MAILFROM",
                label="Sender address",
                required=True,
                help="The From address, e.g. otp@example.com or SMS <otp@example.com>.",
            ),
            Parameter(
                name="MAILTO",
                label="Recipient address",
                required=True,
                help="The gateway's address; {phone} is replaced by the number (E.164) and {otp} "
                "by the message text, e.g. {phone}@sms.example.com.",
            ),
            Parameter(
                name="SUBJECT",
                label="Subject",
                default="{phone}",
                help="The subject; {phone} and {otp} are replaced.",
            ),
            Parameter(
                name="BODY",
                label="Body",
                default="{otp}",
                help="The mail text; {phone} and {otp} are replaced.",
            ),
        ),
    )

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        params, problems = config.parameters, []
        host = params.get("SMTP_HOST") or ""
        if any(ch in host for ch in "/@?# ") or not host:
            problems.append(ConfigProblem("parameters.SMTP_HOST", "must be a host name or IP"))
        if not 1 <= int(params.get("SMTP_PORT") or 0) <= 65535:
            problems.append(ConfigProblem("parameters.SMTP_PORT", "must be from 1 to 65535"))
        if not mailbox(params.get("MAILFROM") or ""):
            problems.append(ConfigProblem("parameters.MAILFROM", "must be an email address"))
        if not mailbox(substitute(params.get("MAILTO") or "", SAMPLE_PHONE, SAMPLE_TEXT)):
            problems.append(ConfigProblem("parameters.MAILTO", "must give an email address"))
        if config.proxy is not None:
            problems.append(ConfigProblem("proxy.host", "the SMTP type cannot use a proxy"))
        return problems

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: Transport
    ) -> SendResult:
        params = config.parameters
        recipient = mailbox(substitute(params["MAILTO"], message.to, message.text))
        if recipient is None:
            return Rejected("MAILTO does not give a valid address for this message")
        host, port = params["SMTP_HOST"], int(params["SMTP_PORT"])
        use_tls, start_tls = TLS_MODES[params["TLS_MODE"]]
        mail = compose(message, params, recipient)
        try:
            async with asyncio.timeout(config.timeout_seconds):
                sock = await _connect(transport, host, port)
                _, reply = await aiosmtplib.send(
                    mail,
                    sender=mailbox(params["MAILFROM"]),
                    recipients=[recipient],
                    hostname=host,  # TLS checks the certificate against the name
                    sock=sock,  # connected to an address the policy permits
                    port=None,
                    username=config.username or None,
                    password=(config.password or "") if config.username else None,
                    use_tls=use_tls,
                    start_tls=start_tls,
                    validate_certs=config.check_ssl,
                    timeout=config.timeout_seconds,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return _reply(refused.code, refused.message)
        except aiosmtplib.SMTPResponseException as exc:
            return _reply(exc.code, exc.message)
        except TimeoutError:  # aiosmtplib's own timeouts are TimeoutErrors too
            raise TransportError(f"no answer within {config.timeout_seconds:g} s") from None
        except (
            ssl.SSLError,
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPServerDisconnected,
        ) as exc:
            raise TransportError(_connection_failure(exc, host, port)) from None
        except aiosmtplib.SMTPException as exc:  # e.g. no STARTTLS or AUTH offered
            return Rejected(f"the mail server cannot take the message: {exc.message}")
        return Accepted(provider_message_id=mail["Message-ID"], detail=reply[:300] or None)


async def _connect(transport: Transport, host: str, port: int) -> socket.socket:
    """A socket connected to an address of the host that the transport permits."""
    addresses = await permitted_addresses(transport, host, port)
    try:
        return await connect_socket(addresses, port)
    except OSError:
        raise TransportError(f"cannot connect to {host}:{port}") from None


def _connection_failure(exc: Exception, host: str, port: int) -> str:
    cause = exc if isinstance(exc, ssl.SSLError) else exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return "the mail server's TLS certificate was not accepted"
    if isinstance(cause, ssl.SSLError):
        return f"the TLS handshake with {host}:{port} failed"
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return f"{host}:{port} closed the connection"
    return f"cannot connect to {host}:{port}"


provider = SmtpProvider()
