"""SMPP delivery receipts: read them from deliver_sm, and keep a receiver bound to take them.

A delivery receipt (SMPP 3.4, appendix B) is a deliver_sm whose esm_class has the message type
"SMSC delivery receipt" (0x04 in bits 2-5). It names the message by the ID that submit_sm_resp
gave and says what became of it, in the optional parameters receipted_message_id (0x001E) and
message_state (0x0427) and/or in the short_message text ``id:IIIIIIIIII sub:SSS dlvrd:DDD submit
date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E Text:...``; the parameters win when both
are there. The text after ``Text:`` (the start of the message, so the code) is never read.

Statuses: DELIVRD is DELIVERED. UNDELIV, REJECTD and EXPIRED (the SMSC gave up) are UNDELIVERED.
DELETED (cancelled at the SMSC, it will never be delivered) is FAILED. ENROUTE, ACCEPTD, UNKNOWN
(the SMSC does not know either) and any value SMPP 3.4 does not define are SENT: no final word,
and the code's expiry still ends the message. The detail keeps the stat and err values.

``ReceiptListener`` keeps one session bound as a receiver (bind_receiver) with a gateway's SMSC
settings. It answers each deliver_sm after handing the receipt to its callback: ESME_ROK, or
ESME_RX_T_APPN when the callback failed, so that the SMSC delivers the receipt again. A deliver_sm
that is no usable receipt (a message from a phone, say) is acknowledged and dropped. After
``idle_seconds`` without a PDU it sends enquire_link; when that goes unanswered for the timeout,
or the connection drops, or the bind is refused, it binds again after an exponential backoff with
jitter, bounded by ``backoff_seconds``; an SMSC address the ``transport`` does not permit (the SSRF
guard) is such a failure. ``stop`` unbinds (briefly) and closes.
"""

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable, Callable

from providers.base import GatewayConfig, Receipt, ReceiptStatus, Transport, mask_numbers
from providers.smpp_codec import (
    DELIVER_SM,
    ESME_ROK,
    ESME_RUNKNOWNERR,
    ESME_RX_T_APPN,
    GENERIC_NACK,
    BindReceiver,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    Pdu,
    PduError,
    parse_tlvs,
    status_text,
)
from providers.smpp_session import Session, open_session
from providers.smpp_text import DATA_CODING_UCS2
from providers.transport import TransportError

log = logging.getLogger("smsauth.smpp")

MESSAGE_TYPE = 0x3C  # esm_class bits 2-5
SMSC_DELIVERY_RECEIPT = 0x04
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427
#: The stat values of SMPP 3.4 appendix B, and the long names some SMSCs write instead.
STATS: dict[str, ReceiptStatus] = {
    "DELIVRD": "DELIVERED", "DELIVERED": "DELIVERED",
    "UNDELIV": "UNDELIVERED", "UNDELIVERABLE": "UNDELIVERED",
    "REJECTD": "UNDELIVERED", "REJECTED": "UNDELIVERED",
    "EXPIRED": "UNDELIVERED",
    "DELETED": "FAILED",
    "ENROUTE": "SENT", "ACCEPTD": "SENT", "ACCEPTED": "SENT", "UNKNOWN": "SENT",
}  # fmt: skip
#: message_state values (SMPP 3.4, 5.2.28) as stat values.
MESSAGE_STATES = {
    1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED",
    5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD",
}  # fmt: skip
FIELD = re.compile(r"\b(id|stat|err):(\S+)", re.IGNORECASE)
TEXT_FIELD = re.compile(r"\btext:", re.IGNORECASE)
STOP_SECONDS = 2.0  # how long stop() waits for the SMSC's unbind_resp

ReceiptHandler = Callable[[Receipt], Awaitable[object]]


def parse_delivery_receipt(pdu: Pdu) -> Receipt | None:
    """The receipt a deliver_sm carries; None for any other PDU or one that names no message."""
    body = pdu.body
    if not isinstance(body, DeliverSm) or body.esm_class & MESSAGE_TYPE != SMSC_DELIVERY_RECEIPT:
        return None
    try:
        tlvs = parse_tlvs(body.tlvs)
    except PduError:
        tlvs = {}  # the text may still say it all
    fields: dict[str, str] = {}
    for name, value in FIELD.findall(TEXT_FIELD.split(_text(body, tlvs), maxsplit=1)[0]):
        fields.setdefault(name.lower(), value[:65])
    message_id = _c_string(tlvs.get(TLV_RECEIPTED_MESSAGE_ID)) or fields.get("id")
    state = tlvs.get(TLV_MESSAGE_STATE, b"")
    if len(state) == 1:
        stat = MESSAGE_STATES.get(state[0], f"message_state {state[0]}")
    else:
        stat = fields.get("stat", "").upper()
    if not message_id or not stat:
        return None
    detail = [f"stat:{stat}"] + ([f"err:{fields['err']}"] if "err" in fields else [])
    network = tlvs.get(TLV_NETWORK_ERROR_CODE, b"")
    if len(network) == 3:
        detail.append(f"network error {network[0]}/{int.from_bytes(network[1:], 'big')}")
    return Receipt(
        provider_message_id=message_id,
        status=STATS.get(stat, "SENT"),
        detail=mask_numbers(" ".join(detail)),
    )


def _text(body: DeliverSm, tlvs: dict[int, bytes]) -> str:
    raw = body.short_message or tlvs.get(TLV_MESSAGE_PAYLOAD, b"")
    codec = "utf-16-be" if body.data_coding == DATA_CODING_UCS2 else "latin-1"
    return raw.decode(codec, errors="replace")


def _c_string(value: bytes | None) -> str | None:
    text = (value or b"").split(b"\0", 1)[0].decode("latin-1").strip()
    return text or None


class ReceiptListener:
    """A receiver session for one SMSC account: bound while it runs, bound again after failures."""

    def __init__(
        self,
        config: GatewayConfig,
        on_receipt: ReceiptHandler,
        *,
        gateway_id: str | None = None,
        idle_seconds: float = 30.0,
        backoff_seconds: tuple[float, float] = (1.0, 60.0),
        transport: Transport | None = None,
    ) -> None:
        params = config.parameters
        self._transport = transport  # its permit() guards the SMSC's address
        self._host, self._port = params["SMSC_HOST"], int(params.get("SMSC_PORT") or 2775)
        self._bind = BindReceiver(
            params["SYSTEM_ID"], params.get("PASSWORD") or "", params.get("SYSTEM_TYPE") or ""
        )
        self._timeout, self._on_receipt = config.timeout_seconds, on_receipt
        self._log = {"gateway_id": gateway_id}  # for the logs only
        self.idle_seconds, self.backoff_seconds = idle_seconds, backoff_seconds
        self.bound = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="smsauth-smpp-receiver")

    async def stop(self) -> None:
        """Unbind (waiting at most ``STOP_SECONDS`` for the answer) and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.bound = False

    async def run(self) -> None:
        """Bind and serve; after a drop or a refusal bind again, waiting longer each time."""
        first, longest = self.backoff_seconds
        delay = first
        while True:
            try:
                await self._session()
            except TransportError as exc:
                reason = exc.reason
            except Exception:  # a bug must not end the listener: log it and bind again
                log.exception("SMPP receiver failed", extra=self._log)
                reason = "an unexpected error"
            delay = first if self.bound else delay  # it was bound: start the backoff over
            self.bound = False
            wait = random.uniform(delay / 2, delay)
            log.warning("SMPP receiver: %s; binding again in %.1f s", reason, wait, extra=self._log)
            await asyncio.sleep(wait)
            delay = min(delay * 2, longest)

    async def _session(self) -> None:
        """Bind and serve until the session fails (always by an exception)."""
        async with open_session(self._host, self._port, self._timeout, self._transport) as session:
            answer = await session.request(self._bind)
            if answer.status != ESME_ROK or answer.command_id == GENERIC_NACK:
                status = status_text(answer.status or ESME_RUNKNOWNERR)
                raise TransportError(f"bind_receiver refused: {status}")
            self.bound = True
            log.info("SMPP receiver bound", extra=self._log)
            try:
                await self._serve(session)
            except asyncio.CancelledError:  # stop(): unbind politely, but briefly
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STOP_SECONDS):
                        await session.unbind_quietly()
                raise

    async def _serve(self, session: Session) -> None:
        """Answer the SMSC until the session fails; enquire_link after a silence."""
        asked = False
        while True:
            try:
                pdu = await session.receive(self._timeout if asked else self.idle_seconds)
            except TimeoutError:
                if asked:
                    raise TransportError(
                        f"no answer to enquire_link within {self._timeout:g} s"
                    ) from None
                await session.send(EnquireLink())
                asked = True
                continue
            asked = False  # any PDU shows the SMSC is there
            if pdu is None:
                continue
            if pdu.command_id == DELIVER_SM:
                await session.reply(Pdu(DeliverSmResp(), pdu.sequence, await self._take(pdu)))
            else:  # enquire_link is answered, unbind ends the session, responses are dropped
                await session.answer(pdu)

    async def _take(self, pdu: Pdu) -> int:
        """Hand a receipt to the callback; the deliver_sm_resp status to answer with."""
        receipt = parse_delivery_receipt(pdu)
        if receipt is None:
            log.info("SMPP deliver_sm that is no usable receipt dropped", extra=self._log)
            return ESME_ROK
        try:
            async with asyncio.timeout(self._timeout):
                await self._on_receipt(receipt)
        except Exception as exc:
            log.warning(
                "SMPP receipt not recorded (%s); the SMSC will deliver it again",
                type(exc).__name__,
                extra=self._log,
            )
            return ESME_RX_T_APPN
        return ESME_ROK
