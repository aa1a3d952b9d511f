"""The provider interface: parameter declarations, gateway configuration, messages and results."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

ParameterKind = Literal["string", "integer", "boolean", "choice", "object"]

#: Account fields every gateway has; a type lists the ones it requires in ``required_fields``.
COMMON_FIELDS = ("url", "accountId", "username", "password", "senderId")

#: A run of seven or more digits, with an optional plus: what a phone number in a reply looks like.
LONG_NUMBER = re.compile(r"\+?\d{7,}")


def mask_numbers(text: str) -> str:
    """The text with each long digit run (a phone number, say) cut to its last three digits.

    Use it on every piece of a provider's reply that goes into a reason: gateways often quote
    the recipient's number back. Example: ``mask_numbers("bad to=+447079692712")`` is
    ``"bad to=***712"``.
    """
    return LONG_NUMBER.sub(lambda found: "***" + found.group()[-3:], text)


@dataclass(frozen=True)
class Parameter:
    """One declared gateway parameter; forms, validation, GraphQL and docs all derive from it."""

    name: str
    label: str
    required: bool = False
    secret: bool = False
    default: Any = None
    help: str = ""
    kind: ParameterKind = "string"
    choices: tuple[str, ...] = ()
    #: A host name or IP address smsauth connects to (an SMTP server, say): when a gateway is
    #: saved it must be a permitted destination (``providers.destinations``), like the URL.
    destination: bool = False

    def coerce(self, value: Any) -> Any:
        """Return the value in its declared kind, or raise ``ValueError`` saying what is wrong."""
        if self.kind == "string":
            if not isinstance(value, str):
                raise ValueError("must be a string")
            return value
        if self.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError("must be an integer")
            try:
                return int(value)
            except ValueError:
                raise ValueError("must be an integer") from None
        if self.kind == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError("must be true or false")
        if self.kind == "choice":
            text = str(value).upper() if isinstance(value, str) else value
            if text not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}")
            return text
        if self.kind == "object":
            return _string_map(value)
        raise AssertionError(self.kind)


def _string_map(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("must be an object of names to values") from None
    if not isinstance(value, Mapping):
        raise ValueError("must be an object of names to values")
    result = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or isinstance(item, Mapping | list):
            raise ValueError("must map non-empty names to plain values")
        result[key] = item if isinstance(item, str) else json.dumps(item)
    return result


@dataclass(frozen=True)
class GatewayType:
    """What a gateway type is: its key, display name, default URL and declared parameters."""

    key: str
    name: str
    parameters: tuple[Parameter, ...] = ()
    default_url: str | None = None
    url_editable: bool = True
    required_fields: tuple[str, ...] = ()
    description: str = ""
    #: The built-in test gateway keeps message texts so a newcomer can read codes back.
    keeps_text: bool = False
    #: The type implements ``parse_receipts``: its gateways report delivery to smsauth's webhook.
    receipts: bool = False

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class Proxy:
    host: str | None = None
    port: int | None = None
    domain: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def address(self) -> str | None:
        """The proxy's URL; ``domain`` (its domain name or IP address) stands in for a host."""
        host = self.host or self.domain
        if not host:
            return None
        return f"http://{host}:{self.port or 8080}"


@dataclass(frozen=True)
class GatewayConfig:
    """A gateway account as a provider sees it: secrets decrypted, parameters with defaults."""

    type: str
    url: str | None = None
    account_id: str | None = None
    username: str | None = None
    password: str | None = None
    sender_id: str | None = None
    check_ssl: bool = True
    timeout_seconds: float = 10.0
    proxy: Proxy | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    extension_parameters: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return f"GatewayConfig(type={self.type!r}, url={self.url!r})"


@dataclass(frozen=True)
class OutboundMessage:
    to: str  # E.164, e.g. "+447079692712"
    text: str  # the full text as the phone shows it (signature prefix included)
    reference: str  # smsauth's own message ID, for receipts
    # Where the provider should post delivery receipts ({SMSAUTH_PUBLIC_URL}/webhooks/sms/{id});
    # None when no public URL is configured.
    callback_url: str | None = None

    def __repr__(self) -> str:  # the text may hold a code
        return f"OutboundMessage(reference={self.reference!r})"


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str | None = None
    detail: str | None = None
    delivered: bool = False  # the provider confirmed delivery already (the test gateway)


@dataclass(frozen=True)
class Rejected:
    reason: str


@dataclass(frozen=True)
class Unavailable:
    reason: str


SendResult = Accepted | Rejected | Unavailable

#: What a delivery receipt says, in smsauth's ``DeliveryStatus`` names.
ReceiptStatus = Literal["SENT", "DELIVERED", "UNDELIVERED", "FAILED"]


@dataclass(frozen=True)
class InboundRequest:
    """A request the provider made to smsauth's webhook, as the provider made it.

    ``url`` is the full public URL the provider called, query string included; ``headers`` has
    lower-cased names; ``form`` is the parsed ``application/x-www-form-urlencoded`` body (else
    empty) and ``body`` the raw body, for signatures computed over it.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """The named query parameter, else the form field of that name."""
        value = self.query.get(name)
        return value if value is not None else self.form.get(name)

    def __repr__(self) -> str:  # the query holds smsauth's webhook token, the body numbers
        return f"InboundRequest(method={self.method!r}, url={self.url.split('?')[0]!r})"


@dataclass(frozen=True)
class Receipt:
    """One message's delivery status, as a provider reported it.

    At least one of ``provider_message_id`` (the ID ``send`` returned in ``Accepted``) and
    ``reference`` (smsauth's own message ID, for providers that echo it back) is set.
    """

    provider_message_id: str | None
    status: ReceiptStatus
    detail: str | None = None  # the provider's status or error text, numbers masked
    reference: str | None = None


class ReceiptRejected(Exception):
    """Bad or missing signature: the webhook answers 403 and changes nothing."""


class ReceiptMalformed(Exception):
    """Not a receipt the provider understands: the webhook answers 400."""


@dataclass(frozen=True)
class ConfigProblem:
    field: str
    message: str


@runtime_checkable
class Transport(Protocol):
    """Outbound I/O a provider may use; handed in so providers stay testable."""

    async def request(self, config: GatewayConfig, method: str, url: str, **kwargs: Any) -> Any: ...

    async def permit(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` a provider that opens its own connection (SMTP, SMPP) may
        connect to; ``TransportError`` ("... not a permitted destination ...") when none."""
        ...


class Provider(Protocol):
    """The whole contract of a gateway type."""

    type: GatewayType

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        """Cross-field rules checked when a gateway is saved (single fields are checked already)."""
        ...

    async def send(
        self, message: OutboundMessage, config: GatewayConfig, transport: Transport
    ) -> SendResult: ...

    def daily_quota(self, config: GatewayConfig) -> int | None:
        """Messages allowed per gateway per UTC day, or None for no limit."""
        ...

    def parse_receipts(self, request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
        """Authenticate a webhook request and read its receipts (optional: ``type.receipts``).

        Raise ``ReceiptRejected`` when the provider signs its requests and the signature is
        missing or wrong, ``ReceiptMalformed`` when the request is not a receipt.
        """
        ...


class BaseProvider:
    """Defaults for the optional parts of ``Provider``."""

    type: GatewayType

    def check_configuration(self, config: GatewayConfig) -> list[ConfigProblem]:
        return []

    def daily_quota(self, config: GatewayConfig) -> int | None:
        return None

    def parse_receipts(self, request: InboundRequest, config: GatewayConfig) -> list[Receipt]:
        raise ReceiptMalformed("this gateway type sends no delivery receipts")
