"""SMPP delivery receipts: a bound receiver per SMSC account that gateways ask receipts from.

In each process that runs a dispatcher (the API with ``SMSAUTH_DISPATCHER`` on, and every
``smsauth worker``), ``SmppReceipts`` keeps one ``providers.smpp_receipts.ReceiptListener`` per
SMSC account (host, port, system ID, password, system type) of the enabled gateways of type
``smpp`` with REGISTERED_DELIVERY on, and moves messages on with ``receipts.apply``. Gateways that
share an account share its receiver: the SMSC hands a receipt to any receiver bound to the account,
so each receipt is tried on every gateway of the account (oldest first) until one moves a message.

Every ``rescan_seconds`` it looks at the gateways again: receivers start for new accounts and stop
for accounts no enabled gateway asks receipts from (a changed account is a new one). Several
processes each binding a receiver is normal SMPP: the SMSC hands each receipt to one of them, and
``apply`` is idempotent.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from domain import receipts
from domain.gateways import provider_config
from domain.models import SmsGateway
from domain.runtime import Runtime
from providers.base import GatewayConfig, Receipt
from providers.smpp_receipts import ReceiptListener

log = logging.getLogger("smsauth.smpp_receipts")

RESCAN_SECONDS = 30.0
#: What names an SMSC account: gateways alike in these share one receiver.
ACCOUNT_PARAMETERS = ("SMSC_HOST", "SMSC_PORT", "SYSTEM_ID", "PASSWORD", "SYSTEM_TYPE")

Account = tuple[object, ...]


def _account(config: GatewayConfig) -> Account:
    return tuple(config.parameters.get(name) for name in ACCOUNT_PARAMETERS)


class SmppReceipts:
    """The receivers of one process; ``listener_options`` go to each ``ReceiptListener``."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        rescan_seconds: float = RESCAN_SECONDS,
        **listener_options: Any,
    ) -> None:
        self.runtime, self.rescan_seconds = runtime, rescan_seconds
        self._options = listener_options
        self._listeners: dict[Account, ReceiptListener] = {}
        self._gateways: dict[Account, list[SmsGateway]] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="smsauth-smpp-receipts")

    async def stop(self) -> None:
        """Stop looking and unbind every receiver."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        listeners = list(self._listeners.values())
        self._listeners.clear()
        await asyncio.gather(*(listener.stop() for listener in listeners))

    async def _run(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:  # the database may be back at the next scan
                log.exception("could not look up the SMPP gateways")
            await asyncio.sleep(self.rescan_seconds)

    async def scan(self) -> None:
        """Start and stop receivers to match the gateways as they are now."""
        wanted: dict[Account, tuple[GatewayConfig, list[SmsGateway]]] = {}
        for gateway in await SmsGateway.filter(type="smpp", enabled=True).order_by("created_at"):
            try:
                config = provider_config(gateway, self.runtime.secret_box)
            except Exception:  # one broken gateway (a secret the key can't open) spoils no other
                log.exception("cannot read an SMPP gateway", extra={"gateway_id": str(gateway.id)})
                continue
            if config.parameters.get("REGISTERED_DELIVERY") is not False:
                wanted.setdefault(_account(config), (config, []))[1].append(gateway)
        self._gateways = {account: gateways for account, (_, gateways) in wanted.items()}
        for account in [a for a in self._listeners if a not in wanted]:
            await self._listeners.pop(account).stop()
        for account, (config, gateways) in wanted.items():
            if account not in self._listeners:
                first = str(gateways[0].id)  # names the receiver in the logs
                listener = ReceiptListener(
                    config,
                    self._applier(account),
                    gateway_id=first,
                    transport=self.runtime.transport,  # its policy guards the SMSC address
                    **self._options,
                )
                self._listeners[account] = listener
                listener.start()

    def _applier(self, account: Account) -> Callable[[Receipt], Awaitable[None]]:
        async def apply(receipt: Receipt) -> None:
            for gateway in self._gateways.get(account, []):
                try:
                    if await receipts.apply(self.runtime, gateway, [receipt]):
                        return
                except Exception:  # logged with the traceback; the SMSC sends it again
                    log.exception("SMPP receipt failed", extra={"gateway_id": str(gateway.id)})
                    raise

        return apply
