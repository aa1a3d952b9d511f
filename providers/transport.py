"""The one HTTP engine every HTTP-based provider uses: proxy, TLS check and timeout per gateway.

It also guards destinations (``providers.destinations``): a request goes only to addresses the
process's ``DestinationPolicy`` permits, judged when the connection is made, and redirects are
never followed. SMTP and SMPP ask ``permit`` for the addresses they may connect to.
"""

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from providers.base import GatewayConfig, Rejected, Transport, Unavailable, mask_numbers
from providers.destinations import (
    DestinationPolicy,
    DestinationRefused,
    GuardedResolver,
    url_host,
)

MAX_REPLY_BYTES = 64 * 1024
PROXY_REFUSED = "the proxy requires valid credentials (HTTP 407)"


class TransportError(Exception):
    """The gateway could not be reached or did not answer in time (the message is not lost)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DestinationNotPermitted(TransportError):
    """The gateway's host is not a permitted destination; nothing was sent to it."""


async def permit_destination(policy: DestinationPolicy, host: str, port: int) -> list[str]:
    """The addresses of ``host`` to connect to, or ``TransportError``: "... not a permitted
    destination (...)" when the policy permits none, "cannot resolve ..." when it has none."""
    try:
        return await policy.permitted(host, port)
    except DestinationRefused as exc:
        raise DestinationNotPermitted(exc.reason) from None
    except OSError:
        raise TransportError(f"cannot resolve {host}") from None


async def permitted_addresses(transport: Transport | None, host: str, port: int) -> list[str]:
    """``transport.permit(host, port)``; without a transport (a provider's unit tests) the
    embedded default policy applies, which permits private networks."""
    if transport is None:
        return await permit_destination(DestinationPolicy(), host, port)
    return await transport.permit(host, port)


@dataclass(frozen=True)
class HttpReply:
    status: int
    text: str
    headers: Mapping[str, str]

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def snippet(self) -> str:
        """The start of the reply, for error messages."""
        return " ".join(self.text.split())[:300]


def http_failure(
    reply: HttpReply, gateway: str, detail: str | None = None
) -> Rejected | Unavailable | None:
    """What a reply's HTTP status says on its own: None for 2xx, whose body the provider reads on.

    429 and 5xx are ``Unavailable`` ("HTTP 503 from <gateway>: <detail>"): trying again later, or
    through another gateway, may work. Any other status is ``Rejected`` ("HTTP 400: <detail>").
    ``detail`` is the start of the reply unless the provider passes its own (say, its API's error
    code and message); either way phone numbers in it are masked.
    """
    if 200 <= reply.status < 300:
        return None
    detail = mask_numbers(reply.snippet if detail is None else detail)
    if reply.status == 429 or reply.status >= 500:
        return Unavailable(f"HTTP {reply.status} from {gateway}: {detail}")
    return Rejected(f"HTTP {reply.status}: {detail}")


def listed_errors(reply: HttpReply, gateway: str, text_key: str) -> str:
    """The errors of a JSON reply ``{"errors": [{"code": ..., <text_key>: ...}, ...]}``, masked.

    Each error reads "<gateway> error <code>: <text>", joined with "; ". A reply without such a
    list gives its (masked) start instead.
    """
    body: Any = reply.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return mask_numbers(
            "; ".join(
                f"{gateway} error {e.get('code')}: {e.get(text_key, '')}"
                for e in errors
                if isinstance(e, dict)
            )
        )
    return mask_numbers(reply.snippet)


async def _read_limited(content: aiohttp.StreamReader) -> bytes:
    """The reply body up to MAX_REPLY_BYTES; one ``read`` may return only the first piece."""
    body = bytearray()
    while len(body) < MAX_REPLY_BYTES:
        piece = await content.read(MAX_REPLY_BYTES - len(body))
        if not piece:
            break
        body += piece
    return bytes(body)


def _decode(body: bytes, charset: str | None) -> str:
    """The reply's text in its declared charset, else UTF-8; undecodable bytes are replaced."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")


def basic_auth(login: str, password: str) -> str:
    """An ``Authorization`` (or ``Proxy-Authorization``) value for HTTP basic auth, in UTF-8."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def _proxy_headers(
    config: GatewayConfig, url: str, headers: Mapping[str, str] | None
) -> tuple[Mapping[str, str] | None, Mapping[str, str] | None]:
    """The request's headers and the CONNECT headers, with the proxy's credentials if it has any.

    A plain-HTTP request goes to the proxy itself, so it carries ``Proxy-Authorization``; an HTTPS
    request goes through a tunnel, so only the CONNECT carries it and the gateway never sees it.
    """
    proxy = config.proxy
    if proxy is None or not proxy.address or not proxy.username:
        return headers, None
    credentials = {"Proxy-Authorization": basic_auth(proxy.username, proxy.password or "")}
    if urlsplit(url).scheme == "https":
        return headers, credentials
    return {**(headers or {}), **credentials}, None


class HttpTransport:
    """A lazily created, shared aiohttp session; one per process. ``policy`` says where requests
    may go (the embedded default, which permits private networks, unless given)."""

    def __init__(self, policy: DestinationPolicy | None = None) -> None:
        self.policy = policy or DestinationPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._resolver = GuardedResolver(self.policy)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=200, ttl_dns_cache=300, resolver=self._resolver
                ),
                trust_env=False,
                auto_decompress=True,
            )
        return self._session

    async def permit(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` a connection may go to; ``TransportError`` when there are
        none ("... not a permitted destination (...)", "cannot resolve ...")."""
        return await permit_destination(self.policy, host, port)

    async def _check_destinations(self, config: GatewayConfig, url: str) -> None:
        """What the connector's resolver cannot see: IP literals, and a proxy's target.

        aiohttp skips the resolver for IP literals, and behind a proxy the proxy resolves the
        gateway's name: so the name is resolved here and every address must be permitted.
        """
        proxy = url_host(config.proxy.address) if config.proxy else None
        target = url_host(url)
        for host in filter(None, (proxy, target)):
            why = self.policy.host_refusal(host)
            if why is not None:
                raise DestinationNotPermitted(DestinationRefused(host, why).reason)
        if proxy and target:
            try:
                async with asyncio.timeout(config.timeout_seconds):
                    await self.policy.permitted(target, every=True)
            except DestinationRefused as exc:
                raise DestinationNotPermitted(exc.reason) from None
            except (OSError, TimeoutError):
                raise TransportError(f"cannot resolve {target}") from None

    async def request(
        self,
        config: GatewayConfig,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpReply:
        await self._check_destinations(config, url)
        proxy = config.proxy.address if config.proxy else None
        if auth:
            headers = {**(headers or {}), "Authorization": basic_auth(*auth)}
        headers, proxy_headers = _proxy_headers(config, url, headers)
        try:
            async with self._client().request(
                method,
                url,
                params=params,
                data=data,
                json=json_body,
                headers=headers,
                proxy=proxy,
                proxy_headers=proxy_headers,
                ssl=None if config.check_ssl else False,
                timeout=aiohttp.ClientTimeout(total=config.timeout_seconds),
                allow_redirects=False,  # a redirect could lead anywhere: its reply is the answer
            ) as response:
                if proxy and response.status == 407:  # the proxy's answer, not the gateway's
                    raise TransportError(PROXY_REFUSED)
                text = _decode(await _read_limited(response.content), response.charset)
                return HttpReply(response.status, text, dict(response.headers))
        except TimeoutError:
            raise TransportError(f"no answer within {config.timeout_seconds:g} s") from None
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, DestinationRefused):
                raise DestinationNotPermitted(exc.os_error.reason) from None
            raise TransportError(f"cannot resolve {exc.host}") from None
        except aiohttp.ClientSSLError:
            raise TransportError("the gateway's TLS certificate was not accepted") from None
        except aiohttp.ClientProxyConnectionError:
            raise TransportError("cannot connect to the proxy") from None
        except aiohttp.ClientHttpProxyError as exc:  # the proxy refused the CONNECT (HTTPS)
            reason = PROXY_REFUSED if exc.status == 407 else f"the proxy answered HTTP {exc.status}"
            raise TransportError(reason) from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(f"cannot connect to {exc.host}:{exc.port}") from None
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            raise TransportError(f"connection failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None
