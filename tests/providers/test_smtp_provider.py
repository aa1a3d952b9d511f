"""The ``smtp`` provider against a real local SMTP server (aiosmtpd): the mail sent, the results.

Each test starts an aiosmtpd ``Controller`` on 127.0.0.1 with a handler that keeps every envelope
(and whether it came over TLS) and can answer RCPT or DATA with a chosen reply. TLS tests use a
throwaway certificate authority from ``trustme`` that the client does not trust.
"""

import asyncio
import email
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from providers.base import (
    Accepted,
    GatewayConfig,
    OutboundMessage,
    Proxy,
    Rejected,
    SendResult,
    Unavailable,
)
from providers.smtp import provider
from providers.transport import HttpTransport, TransportError

PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
WAIT = 10  # seconds: the bound on every wait in these tests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    envelope: Envelope
    over_tls: bool

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.envelope.content, policy=email.policy.default)

    @property
    def text(self) -> str:
        """The body as text, with the wire's CRLF line ends as newlines."""
        return self.message.get_content().replace("\r\n", "\n")


@dataclass
class Handler:
    """Keeps what arrives; ``rcpt_reply``/``data_reply`` replace the server's 250."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    mails: list[Mail] = field(default_factory=list)
    logins: list[LoginPassword] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        over_tls = server.transport.get_extra_info("sslcontext") is not None
        self.mails.append(Mail(envelope, over_tls))
        return "250 2.0.0 Ok: queued as 4F1A2B"

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.logins.append(data)
        ok = isinstance(data, LoginPassword) and data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    handler: Handler
    port: int

    @property
    def mail(self) -> Mail:
        """The one mail the server received."""
        assert len(self.handler.mails) == 1
        return self.handler.mails[0]


StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(certificate_authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
async def smtp_server() -> AsyncIterator[StartServer]:
    """Starts aiosmtpd controllers (keyword arguments go to aiosmtpd) and stops them afterwards."""
    controllers: list[Controller] = []

    async def start(handler: Handler | None = None, **options: Any) -> Server:
        handler = handler or Handler()
        port = free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ready_timeout=WAIT,
            authenticator=handler.authenticate,
            auth_require_tls=False,
            **options,
        )
        await asyncio.to_thread(controller.start)
        controllers.append(controller)
        return Server(handler, port)

    yield start
    for controller in controllers:
        await asyncio.to_thread(controller.stop)


def gateway(port: int, *, tls_mode: str = "NONE", **fields: Any) -> GatewayConfig:
    """An smtp gateway at 127.0.0.1:port, declared defaults filled in, parameters overridable."""
    parameters = {p.name: p.default for p in provider.type.parameters if p.default is not None}
    parameters |= {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "TLS_MODE": tls_mode,
        "MAILFROM": "otp@acme.example",
        "MAILTO": "{phone}@sms.example",
    }
    parameters |= fields.pop("parameters", {})
    values = {"timeout_seconds": 5.0} | fields
    return GatewayConfig(type="smtp", parameters=parameters, **values)


async def send(config: GatewayConfig, message: OutboundMessage = MESSAGE) -> SendResult:
    transport = HttpTransport()  # handed in like smsauth does; SMTP does not use it
    try:
        return await asyncio.wait_for(provider.send(message, config, transport), WAIT)
    finally:
        await transport.close()


# --- the mail ----------------------------------------------------------------------------------


async def test_mail_goes_to_the_gateway_address_with_phone_and_otp(
    smtp_server: StartServer,
) -> None:
    server = await smtp_server()

    result = await send(gateway(server.port))

    assert isinstance(result, Accepted)
    assert result.detail == "2.0.0 Ok: queued as 4F1A2B"
    mail = server.mail
    assert mail.envelope.mail_from == "otp@acme.example"
    assert mail.envelope.rcpt_tos == ["+447079692712@sms.example"]
    message = mail.message
    assert message["From"] == "otp@acme.example"
    assert message["To"] == "+447079692712@sms.example"
    assert message["Subject"] == PHONE
    assert mail.text == f"{TEXT}\n"
    assert message["Message-ID"] == result.provider_message_id
    assert result.provider_message_id.endswith("@acme.example>")
    assert message["Date"]
    assert server.handler.logins == []


async def test_subject_body_and_address_templates_replace_only_the_tags(
    smtp_server: StartServer,
) -> None:
    server = await smtp_server()
    config = gateway(
        server.port,
        parameters={
            "MAILFROM": "Acme OTP <otp@acme.example>",
            "MAILTO": "sms+{phone}@gw.example",
            "SUBJECT": "To {phone} {other} {{otp}}",
            "BODY": "Code for {phone}:\n{otp}\n%s {0} 100%",
        },
    )

    await send(config)

    mail = server.mail
    assert mail.envelope.mail_from == "otp@acme.example"
    assert mail.envelope.rcpt_tos == ["sms++447079692712@gw.example"]
    assert mail.message["From"] == "Acme OTP <otp@acme.example>"
    assert mail.message["Subject"] == f"To {PHONE} {{other}} {{{TEXT}}}"
    assert mail.text == f"Code for {PHONE}:\n{TEXT}\n%s {{0}} 100%\n"


async def test_text_with_line_breaks_and_non_ascii_cannot_add_headers(
    smtp_server: StartServer,
) -> None:
    server = await smtp_server()
    text = "Código 123456\nBcc: victim@example.com"
    config = gateway(server.port, parameters={"SUBJECT": "{otp}"})

    await send(config, OutboundMessage(to=PHONE, text=text, reference="42"))

    message = server.mail.message
    assert message["Subject"] == "Código 123456 Bcc: victim@example.com"
    assert message["Bcc"] is None
    assert server.mail.envelope.rcpt_tos == ["+447079692712@sms.example"]
    assert server.mail.text == f"{text}\n"


async def test_logs_in_with_the_account_user_name_and_password(smtp_server: StartServer) -> None:
    server = await smtp_server()

    result = await send(gateway(server.port, username="mailer", password="s3cret"))

    assert isinstance(result, Accepted)
    assert server.handler.logins == [LoginPassword(b"mailer", b"s3cret")]
    assert len(server.handler.mails) == 1


async def test_refused_login_is_rejected(smtp_server: StartServer) -> None:
    server = await smtp_server()

    result = await send(gateway(server.port, username="mailer", password="wrong"))

    assert isinstance(result, Rejected)
    assert result.reason.startswith("SMTP 535")
    assert "wrong" not in result.reason
    assert server.handler.mails == []


# --- SMTP replies ------------------------------------------------------------------------------


async def test_refused_recipient_is_rejected_with_the_reply(smtp_server: StartServer) -> None:
    server = await smtp_server(Handler(rcpt_reply="550 5.1.1 No such SMS route"))

    result = await send(gateway(server.port))

    assert result == Rejected("SMTP 550: 5.1.1 No such SMS route")


async def test_temporarily_refused_recipient_is_unavailable(smtp_server: StartServer) -> None:
    server = await smtp_server(Handler(rcpt_reply="451 4.3.0 Try again later"))

    result = await send(gateway(server.port))

    assert result == Unavailable("SMTP 451: 4.3.0 Try again later")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("554 5.7.1 Message refused", Rejected("SMTP 554: 5.7.1 Message refused")),
        ("452 4.3.1 Full", Unavailable("SMTP 452: 4.3.1 Full")),
    ],
)
async def test_refused_data_is_classified_by_reply_code(
    smtp_server: StartServer, reply: str, expected: SendResult
) -> None:
    server = await smtp_server(Handler(data_reply=reply))

    result = await send(gateway(server.port))

    assert result == expected


# --- connection --------------------------------------------------------------------------------


async def test_closed_port_raises_transport_error() -> None:
    with pytest.raises(TransportError, match="cannot connect to 127.0.0.1"):
        await send(gateway(free_port()))


async def test_silent_server_times_out_as_transport_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets; returns when the client gives up
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TransportError, match="no answer within 0.5 s"):
            await send(gateway(port, timeout_seconds=0.5))
    finally:
        listener.close()
        await asyncio.wait_for(listener.wait_closed(), WAIT)


# --- TLS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tls_mode", ["STARTTLS", "TLS"])
async def test_untrusted_certificate_is_refused_when_checking_ssl(
    smtp_server: StartServer, server_tls: ssl.SSLContext, tls_mode: str
) -> None:
    option = {"tls_context": server_tls} if tls_mode == "STARTTLS" else {"ssl_context": server_tls}
    server = await smtp_server(**option)

    with pytest.raises(TransportError, match="certificate was not accepted"):
        await send(gateway(server.port, tls_mode=tls_mode, check_ssl=True))

    assert server.handler.mails == []


@pytest.mark.parametrize("tls_mode", ["STARTTLS", "TLS"])
async def test_untrusted_certificate_is_accepted_without_checking_ssl(
    smtp_server: StartServer, server_tls: ssl.SSLContext, tls_mode: str
) -> None:
    option = {"tls_context": server_tls} if tls_mode == "STARTTLS" else {"ssl_context": server_tls}
    server = await smtp_server(**option)
    config = gateway(
        server.port, tls_mode=tls_mode, check_ssl=False, username="mailer", password="s3cret"
    )

    result = await send(config)

    assert isinstance(result, Accepted)
    assert server.mail.over_tls is True
    assert server.mail.envelope.rcpt_tos == ["+447079692712@sms.example"]
    assert server.handler.logins == [LoginPassword(b"mailer", b"s3cret")]


async def test_starttls_mode_is_rejected_when_the_server_does_not_offer_it(
    smtp_server: StartServer,
) -> None:
    server = await smtp_server()

    result = await send(gateway(server.port, tls_mode="STARTTLS"))

    assert isinstance(result, Rejected)
    assert "STARTTLS" in result.reason
    assert server.handler.mails == []


async def test_none_mode_sends_in_the_clear_even_when_starttls_is_offered(
    smtp_server: StartServer, server_tls: ssl.SSLContext
) -> None:
    server = await smtp_server(tls_context=server_tls)

    await send(gateway(server.port, tls_mode="NONE"))

    assert server.mail.over_tls is False


# --- configuration -----------------------------------------------------------------------------


def test_a_complete_configuration_has_no_problems() -> None:
    assert provider.check_configuration(gateway(25)) == []


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"MAILTO": "{phone}"}, "parameters.MAILTO"),
        ({"MAILTO": "sms gateway@example.com"}, "parameters.MAILTO"),
        ({"MAILTO": "{phone}@a.example, {phone}@b.example"}, "parameters.MAILTO"),
        ({"MAILTO": "{phone}@gw.example\nBcc: x@y.example"}, "parameters.MAILTO"),
        ({"MAILFROM": "acme"}, "parameters.MAILFROM"),
        ({"SMTP_PORT": 0}, "parameters.SMTP_PORT"),
        ({"SMTP_PORT": 65536}, "parameters.SMTP_PORT"),
        ({"SMTP_HOST": "smtp://mail.example"}, "parameters.SMTP_HOST"),
    ],
)
def test_bad_parameters_are_reported_with_their_field(
    parameters: dict[str, Any], field: str
) -> None:
    problems = provider.check_configuration(gateway(25, parameters=parameters))

    assert [p.field for p in problems] == [field]


def test_a_proxy_is_refused_because_smtp_cannot_use_it() -> None:
    config = gateway(25, proxy=Proxy(host="proxy.example", port=3128))

    assert [p.field for p in provider.check_configuration(config)] == ["proxy.host"]


async def test_otp_making_the_address_invalid_is_rejected_without_sending(
    smtp_server: StartServer,
) -> None:
    server = await smtp_server()
    config = gateway(server.port, parameters={"MAILTO": "{otp}@sms.example"})

    result = await send(config)

    assert result == Rejected("MAILTO does not give a valid address for this message")
    assert server.handler.mails == []


def test_type_declares_its_parameters_and_no_url() -> None:
    declared = provider.type

    assert declared.key == "smtp"
    assert declared.url_editable is False
    assert declared.default_url is None
    assert {p.name: (p.required, p.default) for p in declared.parameters} == {
        "SMTP_HOST": (True, None),
        "SMTP_PORT": (False, 25),
        "TLS_MODE": (False, "STARTTLS"),
        "MAILFROM": (True, None),
        "MAILTO": (True, None),
        "SUBJECT": (False, "{phone}"),
        "BODY": (False, "{otp}"),
    }
    assert declared.parameter("TLS_MODE").choices == ("NONE", "STARTTLS", "TLS")
