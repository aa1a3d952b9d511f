"""The gateway's proxy, TLS check and timeout, against a real local proxy and HTTPS server.

``AuthProxy`` is an HTTP forward proxy on 127.0.0.1 (asyncio streams). It requires basic
``Proxy-Authorization`` and answers 407 without it. It forwards absolute-URI requests (adding
``Via: 1.1 test-proxy`` and dropping the proxy's own headers), tunnels CONNECT, and records each
request it gets. The HTTPS gateway is a pytest-httpserver with a certificate from a throwaway
``trustme`` authority that the client does not trust. Every wait is bounded by ``WAIT``.
"""

import asyncio
import base64
import binascii
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from pytest_httpserver import HTTPServer

from providers.base import Accepted, GatewayConfig, OutboundMessage, Proxy, SendResult
from providers.http import provider
from providers.transport import PROXY_REFUSED, HttpTransport, TransportError

# aiohttp 3.14 deprecates ``proxy_auth``: the transport must not use anything deprecated.
pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

WAIT = 10  # seconds: the bound on every wait in these tests
MESSAGE = OutboundMessage(to="+447079692712", text="Your code is 123456", reference="42")
PARAMETERS = {"HTTP_METHOD": "GET", "OPTIONS": {"to": "{phone}", "text": "{otp}"}}
PROXY_USER, PROXY_PASSWORD = "proxy-user", "pr0xy:pass wörd"
VIA = "1.1 test-proxy"
REFUSED = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
)
HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


@dataclass
class Seen:
    """One request the proxy got: ``GET http://host/path`` or ``CONNECT host:port``."""

    method: str
    target: str
    credentials: tuple[str, str] | None


@dataclass
class AuthProxy:
    username: str
    password: str
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    handlers: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def config(self) -> Proxy:
        return Proxy(
            host="127.0.0.1", port=self.port, username=self.username, password=self.password
        )

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            async with asyncio.timeout(WAIT):
                await self._serve(reader, writer)
        except (OSError, EOFError, TimeoutError, ValueError):
            pass  # the client went away, or the test is over
        finally:
            self.handlers.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")[:-2]
        method, target, _ = request_line.split(" ")
        headers = {name.lower(): value for name, value in (li.split(": ", 1) for li in lines)}
        credentials = _credentials(headers.get("proxy-authorization"))
        self.seen.append(Seen(method, target, credentials))
        if credentials != (self.username, self.password):
            writer.write(REFUSED)
            await writer.drain()
        elif method == "CONNECT":
            await self._tunnel(target, reader, writer)
        else:
            await self._forward(method, target, headers, reader, writer)

    async def _forward(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        url = urlsplit(target)
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        kept = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        kept |= {"connection": "close", "via": VIA}
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept.items())
        up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        try:
            up_writer.write(head.encode("latin-1") + b"\r\n" + body)
            await up_writer.drain()
            writer.write(await up_reader.read())  # the gateway closes after its reply
            await writer.drain()
        finally:
            up_writer.close()

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def stop_handlers(self) -> None:
        """Cancel what still runs (a kept-alive tunnel, a stalled gateway) and wait for it."""
        for task in self.handlers:
            task.cancel()
        if self.handlers:
            await asyncio.wait(self.handlers, timeout=WAIT)


def _credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        login, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return login, password


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@asynccontextmanager
async def running_proxy(
    username: str = PROXY_USER, password: str = PROXY_PASSWORD
) -> AsyncIterator[AuthProxy]:
    """An ``AuthProxy`` listening on 127.0.0.1; nothing it started outlives the block."""
    fake = AuthProxy(username, password)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        await fake.stop_handlers()
        await asyncio.wait_for(server.wait_closed(), WAIT)


@pytest.fixture
async def proxy() -> AsyncIterator[AuthProxy]:
    async with running_proxy() as running:
        yield running


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(certificate_authority: trustme.CA) -> Iterator[HTTPServer]:
    """A gateway with a certificate for localhost from an authority nobody trusts."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = HTTPServer(host="localhost", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    server.stop()


def gateway(url: str, **fields: Any) -> GatewayConfig:
    """An ``http`` gateway for ``url``, as smsauth hands it over (proxy password decrypted)."""
    values = {"timeout_seconds": 5.0} | fields
    return GatewayConfig(type="http", url=url, parameters=PARAMETERS, **values)


async def send(config: GatewayConfig, transport: HttpTransport) -> SendResult:
    return await asyncio.wait_for(provider.send(MESSAGE, config, transport), WAIT)


def only_request(server: HTTPServer) -> Any:
    """The one request the gateway received."""
    server.check_assertions()
    assert len(server.log) == 1
    return server.log[0][0]


# --- proxy -------------------------------------------------------------------------------------


async def test_the_gateway_is_reached_only_through_the_proxy_with_its_credentials(
    httpserver: HTTPServer, proxy: AuthProxy, transport: HttpTransport
) -> None:
    httpserver.expect_oneshot_request("/send", method="GET").respond_with_data("OK 1")
    url = httpserver.url_for("/send")

    result = await send(gateway(url, proxy=proxy.config), transport)

    assert result == Accepted(detail="OK 1")
    (seen,) = proxy.seen
    assert seen.method == "GET" and seen.target.startswith(f"{url}?")
    assert seen.credentials == (PROXY_USER, PROXY_PASSWORD)
    request = only_request(httpserver)
    assert request.headers["Via"] == VIA  # it came from the proxy, not from the client
    assert "Proxy-Authorization" not in request.headers
    assert request.args["to"] == MESSAGE.to and request.args["text"] == MESSAGE.text


async def test_the_proxy_domain_stands_in_for_an_empty_host(
    httpserver: HTTPServer, proxy: AuthProxy, transport: HttpTransport
) -> None:
    httpserver.expect_oneshot_request("/send").respond_with_data("OK")
    by_domain = Proxy(
        domain="127.0.0.1", port=proxy.port, username=PROXY_USER, password=PROXY_PASSWORD
    )

    result = await send(gateway(httpserver.url_for("/send"), proxy=by_domain), transport)

    assert isinstance(result, Accepted)
    assert [s.credentials for s in proxy.seen] == [(PROXY_USER, PROXY_PASSWORD)]
    assert only_request(httpserver).headers["Via"] == VIA


@pytest.mark.parametrize("password", ["wrong", None])
async def test_a_refused_proxy_login_is_a_transport_error_and_nothing_reaches_the_gateway(
    httpserver: HTTPServer, proxy: AuthProxy, transport: HttpTransport, password: str | None
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    login = Proxy(
        host="127.0.0.1", port=proxy.port, username=password and PROXY_USER, password=password
    )

    with pytest.raises(TransportError) as raised:
        await send(gateway(httpserver.url_for("/send"), proxy=login), transport)

    assert raised.value.reason == PROXY_REFUSED
    assert [s.credentials for s in proxy.seen] == [(PROXY_USER, "wrong") if password else None]
    assert httpserver.log == []


async def test_an_https_gateway_is_reached_through_a_tunnel_the_proxy_authorised(
    https_server: HTTPServer, proxy: AuthProxy, transport: HttpTransport
) -> None:
    https_server.expect_oneshot_request("/send").respond_with_data("OK")
    config = gateway(https_server.url_for("/send"), proxy=proxy.config, check_ssl=False)

    result = await send(config, transport)

    assert isinstance(result, Accepted)
    assert proxy.seen == [
        Seen("CONNECT", f"localhost:{https_server.port}", (PROXY_USER, PROXY_PASSWORD))
    ]
    request = only_request(https_server)
    assert "Proxy-Authorization" not in request.headers  # only the CONNECT carried it
    assert "Via" not in request.headers  # a tunnel: the proxy did not see the request


async def test_a_refused_tunnel_is_a_transport_error(
    https_server: HTTPServer, proxy: AuthProxy, transport: HttpTransport
) -> None:
    login = Proxy(host="127.0.0.1", port=proxy.port, username=PROXY_USER, password="wrong")
    config = gateway(https_server.url_for("/send"), proxy=login, check_ssl=False)

    with pytest.raises(TransportError) as raised:
        await send(config, transport)

    assert raised.value.reason == PROXY_REFUSED
    assert https_server.log == []


async def test_a_proxy_that_is_not_there_is_a_transport_error(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = gateway(httpserver.url_for("/send"), proxy=Proxy(host="127.0.0.1", port=port))

    with pytest.raises(TransportError) as raised:
        await send(config, transport)

    assert raised.value.reason == "cannot connect to the proxy"
    assert httpserver.log == []


async def test_the_timeout_holds_through_the_proxy(
    httpserver: HTTPServer, proxy: AuthProxy, transport: HttpTransport, stalled_handler: Any
) -> None:
    httpserver.expect_request("/send").respond_with_handler(stalled_handler)
    config = gateway(httpserver.url_for("/send"), proxy=proxy.config, timeout_seconds=0.5)

    with pytest.raises(TransportError) as raised:
        await send(config, transport)

    assert raised.value.reason == "no answer within 0.5 s"
    assert len(proxy.seen) == 1


# --- TLS ---------------------------------------------------------------------------------------


async def test_check_ssl_refuses_a_certificate_nobody_vouches_for(
    https_server: HTTPServer, transport: HttpTransport
) -> None:
    https_server.expect_request("/send").respond_with_data("OK")

    with pytest.raises(TransportError) as raised:
        await send(gateway(https_server.url_for("/send"), check_ssl=True), transport)

    assert "certificate" in raised.value.reason
    assert https_server.log == []


async def test_without_check_ssl_the_same_server_is_accepted(
    https_server: HTTPServer, transport: HttpTransport
) -> None:
    https_server.expect_oneshot_request("/send").respond_with_data("OK 2")

    result = await send(gateway(https_server.url_for("/send"), check_ssl=False), transport)

    assert result == Accepted(detail="OK 2")
    assert only_request(https_server).args["to"] == MESSAGE.to
