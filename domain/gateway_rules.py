"""Validation of a whole gateway draft against its type's declaration and the provider's checks.

``check_destinations`` is the save-time half of the SSRF guard (``providers.destinations``): the
URL, the proxy host and every parameter declared as a ``destination`` must be permitted hosts.
"""

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from domain.errors import ValidationFailed
from providers.base import GatewayConfig, GatewayType, Proxy
from providers.destinations import DestinationPolicy, DestinationRefused, url_host
from providers.registry import get_provider

MAX_EXTENSION_PARAMETERS = 50
#: How long saving a gateway waits for one host name to resolve.
SAVE_RESOLVE_SECONDS = 3.0
TEXT_LIMITS = {
    "name": 200,
    "url": 2000,
    "account_id": 500,
    "username": 500,
    "password": 2000,
    "sender_id": 100,
    "signature": 200,
    "description": 2000,
}
CAMEL = {"account_id": "accountId", "sender_id": "senderId", "timeout_seconds": "timeoutSeconds"}
REQUIRED_FIELD_NAMES = {
    "url": "url",
    "accountId": "account_id",
    "username": "username",
    "password": "password",
    "senderId": "sender_id",
}


def validate_draft(draft: Any) -> Any:
    """Return the draft normalised (trimmed, coerced, defaults) or raise ``ValidationFailed``."""
    draft = _trimmed(draft)
    if not draft.name:
        raise ValidationFailed("the gateway name must not be empty", field="name")
    provider = get_provider(draft.type or "")
    if provider is None:
        raise ValidationFailed(f"unknown gateway type {draft.type!r}", field="type")
    gtype = provider.type
    draft = replace(draft, url=_url(gtype, draft.url))
    for public, attr in REQUIRED_FIELD_NAMES.items():
        if public in gtype.required_fields and not getattr(draft, attr):
            raise ValidationFailed(f"the {gtype.name} type needs this field", field=public)
    if not 0.5 <= float(draft.timeout_seconds) <= 120:
        raise ValidationFailed("must be between 0.5 and 120 seconds", field="timeoutSeconds")
    draft = replace(
        draft,
        timeout_seconds=float(draft.timeout_seconds),
        proxy=_proxy(draft.proxy),
        parameters=_parameters(gtype, draft.parameters),
        extension_parameters=_extension_parameters(draft.extension_parameters),
    )
    config = config_of(gtype, draft)
    problems = provider.check_configuration(config)
    if problems:
        raise ValidationFailed(problems[0].message, field=problems[0].field)
    return draft


async def check_destinations(draft: Any, policy: DestinationPolicy, stored: Any = None) -> None:
    """Raise ``ValidationFailed`` ("... not a permitted destination (...)") on the first host of a
    validated draft that the policy refuses.

    IP literals are judged as written; a name is resolved (waiting at most SAVE_RESOLVE_SECONDS)
    and every address must be permitted. A name that does not resolve now is accepted: DNS may
    answer differently where and when the gateway sends, and sending checks again. The type's
    own default URL is not checked, nor a host that the ``stored`` gateway has in the same field.
    """
    gtype = get_provider(draft.type).type
    kept = (
        set(_destinations(gtype, stored))
        if stored is not None and stored.type == draft.type
        else set()
    )
    for field, host in _destinations(gtype, draft):
        if (field, host) in kept:
            continue
        try:
            async with asyncio.timeout(SAVE_RESOLVE_SECONDS):
                await policy.permitted(host, every=True)
        except DestinationRefused as exc:
            raise ValidationFailed(exc.reason, field=field) from None
        except (OSError, TimeoutError):
            continue  # not resolvable now: checked again when sending


def _destinations(gtype: GatewayType, draft: Any) -> Iterator[tuple[str, str]]:
    """(field, host) for each host the gateway connects to that its admin chose."""
    host = url_host(draft.url) if draft.url != gtype.default_url else None
    if host:
        yield "url", host
    proxy = draft.proxy or {}
    for key in ("host", "domain"):
        if proxy.get(key):
            yield f"proxy.{key}", proxy[key]
            break
    for declared in gtype.parameters:
        value = draft.parameters.get(declared.name, declared.default)
        if declared.destination and isinstance(value, str) and value:
            yield f"parameters.{declared.name}", value


def config_of(gtype: GatewayType, draft: Any) -> GatewayConfig:
    """The provider's view of a draft: declared defaults filled in, proxy only with a host."""
    proxy = draft.proxy or {}
    return GatewayConfig(
        type=gtype.key,
        url=draft.url,
        account_id=draft.account_id,
        username=draft.username,
        password=draft.password,
        sender_id=draft.sender_id,
        check_ssl=draft.check_ssl,
        timeout_seconds=draft.timeout_seconds,
        proxy=Proxy(**{k: proxy.get(k) for k in ("host", "port", "domain", "username", "password")})
        if proxy.get("host") or proxy.get("domain")
        else None,
        parameters={p.name: p.default for p in gtype.parameters if p.default is not None}
        | draft.parameters,
        extension_parameters=draft.extension_parameters,
    )


def _trimmed(draft: Any) -> Any:
    updates = {}
    for name, limit in TEXT_LIMITS.items():
        value = getattr(draft, name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationFailed("must be text", field=CAMEL.get(name, name))
        value = value if name in ("password", "signature") else value.strip()
        if len(value) > limit:
            raise ValidationFailed(f"longer than {limit} characters", field=CAMEL.get(name, name))
        updates[name] = value or None
    return replace(draft, **updates)


def _url(gtype: GatewayType, url: str | None) -> str | None:
    if not gtype.url_editable:
        if url and url != gtype.default_url:
            raise ValidationFailed(
                f"the URL of the {gtype.name} type cannot be changed", field="url"
            )
        return gtype.default_url
    url = url or gtype.default_url
    if url:
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            raise ValidationFailed("must be an absolute URL such as https://host/path", field="url")
    return url


def _proxy(proxy: dict[str, Any] | None) -> dict[str, Any] | None:
    if not proxy:
        return None
    clean: dict[str, Any] = {}
    for key in ("host", "domain", "username", "password", "description"):
        value = proxy.get(key)
        if value is not None and not isinstance(value, str):
            raise ValidationFailed("must be text", field=f"proxy.{key}")
        value = value if key == "password" else (value or "").strip()
        if value and len(value) > 500:
            raise ValidationFailed("longer than 500 characters", field=f"proxy.{key}")
        clean[key] = value or None
    port = proxy.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        raise ValidationFailed("must be a port number from 1 to 65535", field="proxy.port")
    clean["port"] = port
    host = clean["host"] or clean["domain"]
    if host and any(ch in host for ch in "/@ ?#"):
        raise ValidationFailed("must be a host name or IP address", field="proxy.host")
    if not host and any(clean[k] for k in ("port", "username", "password")):
        raise ValidationFailed("set the proxy host name (or domain)", field="proxy.host")
    return clean if any(v for v in clean.values()) else None


def _parameters(gtype: GatewayType, given: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for name, value in given.items():
        declared = gtype.parameter(name)
        if declared is None:
            known = ", ".join(p.name for p in gtype.parameters) or "none"
            raise ValidationFailed(
                f"the {gtype.name} type has no parameter {name!r} (known: {known})",
                field=f"parameters.{name}",
            )
        try:
            result[name] = declared.coerce(value)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field=f"parameters.{name}") from None
    for declared in gtype.parameters:
        value = result.get(declared.name, declared.default)
        if declared.required and value in (None, "", {}):
            raise ValidationFailed(
                f"{declared.label} is required", field=f"parameters.{declared.name}"
            )
    return result


def _extension_parameters(given: Any) -> dict[str, str]:
    if not given:
        return {}
    if not isinstance(given, dict):
        raise ValidationFailed("must be an object of names to values", field="extensionParameters")
    if len(given) > MAX_EXTENSION_PARAMETERS:
        raise ValidationFailed(
            f"at most {MAX_EXTENSION_PARAMETERS} extension parameters", field="extensionParameters"
        )
    result = {}
    for key, value in given.items():
        if not isinstance(key, str) or not key.strip() or isinstance(value, dict | list):
            raise ValidationFailed(
                "extension parameters map names to plain values", field="extensionParameters"
            )
        result[key.strip()] = (
            value
            if isinstance(value, str)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
    return result
