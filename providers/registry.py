"""Which gateway types exist: the built-in table plus packages' ``smsauth.providers`` entry points.

A provider is found by its type key only; no dotted path read from the database is ever imported.
"""

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from providers import (
    http,
    instaalerts,
    messagebird,
    sipgate,
    smpp,
    smtp,
    test_gateway,
    textlocal,
    twilio,
)
from providers.base import Provider

log = logging.getLogger("smsauth.providers")

ENTRY_POINT_GROUP = "smsauth.providers"

BUILTINS: dict[str, Provider] = {
    module.provider.type.key: module.provider
    for module in (
        test_gateway,
        http,
        twilio,
        messagebird,
        textlocal,
        instaalerts,
        sipgate,
        smtp,
        smpp,
    )
}


@dataclass(frozen=True)
class Registered:
    provider: Provider
    custom: bool


@cache
def registered() -> dict[str, Registered]:
    """Every gateway type by key; built-ins win a clash with an entry point of the same key."""
    table = {key: Registered(provider, custom=False) for key, provider in BUILTINS.items()}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in BUILTINS:
            continue
        try:
            provider = point.load()
        except Exception:  # a broken plug-in must not take the server down
            log.exception("cannot load gateway type %r from %s", point.name, point.value)
            continue
        if getattr(getattr(provider, "type", None), "key", None) != point.name:
            log.error("entry point %r does not name a provider with that key", point.name)
            continue
        table[point.name] = Registered(provider, custom=True)
    return dict(sorted(table.items()))


def get_provider(key: str) -> Provider | None:
    found = registered().get(key)
    return found.provider if found else None
