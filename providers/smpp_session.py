"""An SMPP client session over asyncio streams: requests one at a time, each wait bounded.

``open_session`` connects to an address the transport permits (the SSRF guard) and yields a
``Session``; every way the connection can fail (refused, not permitted, timed out, dropped,
garbled) leaves it as ``TransportError``, and the connection is closed on the way out. While
waiting for a response the session answers the SMSC's own requests: enquire_link, deliver_sm
(refused with a temporary error: the SMSC delivers it again later, to a bound receiver), unbind
(which ends the session) and unknown commands (generic_nack). A receiver
(``providers.smpp_receipts``) reads with ``receive`` and answers deliver_sm itself.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from providers.base import Transport
from providers.destinations import connect_socket
from providers.smpp_codec import (
    BODIES,
    DELIVER_SM,
    ENQUIRE_LINK,
    ESME_RINVCMDID,
    ESME_RX_T_APPN,
    GENERIC_NACK,
    HEADER,
    UNBIND,
    Body,
    DeliverSmResp,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    PduError,
    Unbind,
    UnbindResp,
    decode,
    pdu_length,
)
from providers.transport import TransportError, permitted_addresses


class Session:
    """One TCP connection to the SMSC; the ESME sends one request at a time and waits."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> None:
        self._reader, self._writer, self._timeout = reader, writer, timeout
        self._sequence = 0

    async def request(self, body: Body) -> Pdu:
        """Send ``body`` and return its response, or the generic_nack answering it."""
        self._sequence += 1
        await self._send(Pdu(body, self._sequence))
        while True:
            pdu = await self._read()
            if pdu is None:
                continue
            answers = pdu.command_id in (body.command_id | GENERIC_NACK, GENERIC_NACK)
            if answers and pdu.sequence == self._sequence:
                return pdu
            await self.answer(pdu)

    async def send(self, body: Body) -> None:
        """Send a request without waiting for its response (``receive`` reads it)."""
        self._sequence += 1
        await self._send(Pdu(body, self._sequence))

    async def reply(self, pdu: Pdu) -> None:
        """Send a response to one of the SMSC's requests."""
        await self._send(pdu)

    async def receive(self, idle: float) -> Pdu | None:
        """The next PDU, or None for an unknown command (answered). ``TimeoutError`` when none
        starts within ``idle`` seconds (nothing is lost: read again); the rest of a PDU that has
        started must come within the timeout, else ``TransportError``."""
        async with asyncio.timeout(idle):
            header = await self._reader.readexactly(HEADER.size)
        try:
            return await self._finish(header)
        except TimeoutError:
            raise TransportError(f"a PDU from the SMSC stalled for {self._timeout:g} s") from None

    async def unbind_quietly(self) -> None:
        """Unbind politely; the outcome is decided already, so a failure here changes nothing."""
        with contextlib.suppress(
            TimeoutError, OSError, asyncio.IncompleteReadError, PduError, TransportError
        ):
            await self.request(Unbind())

    async def _send(self, pdu: Pdu) -> None:
        self._writer.write(pdu.encode())
        async with asyncio.timeout(self._timeout):
            await self._writer.drain()

    async def _read(self) -> Pdu | None:
        """The next PDU, or None for a command we do not know (a request is answered first)."""
        async with asyncio.timeout(self._timeout):
            header = await self._reader.readexactly(HEADER.size)
            return await self._finish(header)

    async def _finish(self, header: bytes) -> Pdu | None:
        """The PDU that starts with ``header``: its body is read within the timeout."""
        async with asyncio.timeout(self._timeout):
            data = header + await self._reader.readexactly(pdu_length(header) - HEADER.size)
        _, command_id, _, sequence = HEADER.unpack_from(data)
        if command_id in BODIES:
            return decode(data)
        if not command_id & GENERIC_NACK:
            await self._send(Pdu(GenericNack(), sequence, ESME_RINVCMDID))
        return None

    async def answer(self, pdu: Pdu) -> None:
        """Answer a request from the SMSC (deliver_sm refused); stray responses are ignored."""
        if pdu.command_id == ENQUIRE_LINK:
            await self._send(Pdu(EnquireLinkResp(), pdu.sequence))
        elif pdu.command_id == DELIVER_SM:  # the SMSC should deliver it later, to a receiver
            await self._send(Pdu(DeliverSmResp(), pdu.sequence, ESME_RX_T_APPN))
        elif pdu.command_id == UNBIND:
            await self._send(Pdu(UnbindResp(), pdu.sequence))
            raise TransportError("the SMSC ended the session")

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(self._timeout):
                await self._writer.wait_closed()


@contextlib.asynccontextmanager
async def open_session(
    host: str, port: int, timeout: float, transport: Transport | None = None
) -> AsyncIterator[Session]:
    """A connected session that is closed on exit; connection failures raise TransportError.

    The connection goes to an address of ``host`` that ``transport.permit`` allows (without a
    transport, the embedded default policy), else nothing is connected and TransportError says
    "... not a permitted destination ...".
    """
    try:
        async with asyncio.timeout(timeout):
            addresses = await permitted_addresses(transport, host, port)
            sock = await connect_socket(addresses, port)
            reader, writer = await asyncio.open_connection(sock=sock)
    except TimeoutError:
        raise TransportError(f"cannot connect to {host}:{port} within {timeout:g} s") from None
    except OSError as exc:
        raise TransportError(f"cannot connect to {host}:{port} ({type(exc).__name__})") from None
    session = Session(reader, writer, timeout)
    try:
        yield session
    except TimeoutError:
        raise TransportError(f"no answer from the SMSC within {timeout:g} s") from None
    except asyncio.IncompleteReadError:
        raise TransportError("the SMSC closed the connection") from None
    except OSError as exc:
        raise TransportError(f"the connection to the SMSC failed ({type(exc).__name__})") from None
    except PduError as exc:
        raise TransportError(f"the SMSC sent an invalid PDU: {exc}") from None
    finally:
        await session.close()
