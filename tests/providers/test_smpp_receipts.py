"""SMPP delivery receipts: parsed from deliver_sm text and TLVs, and taken on a bound receiver.

``ReceiverSmsc`` is an asyncio SMSC on 127.0.0.1 with its own minimal PDU parser (not
``providers.smpp_codec``). It answers binds from a script of statuses, sends each accepted
receiver the next batch of receipts, answers submit_sm with a fixed message ID, records every PDU
it gets and can drop the connection once a batch is acknowledged. Every wait here is bounded.
"""

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from providers.base import GatewayConfig, Receipt
from providers.smpp_codec import (
    BindReceiver,
    BindReceiverResp,
    Pdu,
    PduError,
    SubmitSm,
    decode,
    parse_tlvs,
)
from providers.smpp_receipts import STOP_SECONDS, ReceiptListener, parse_delivery_receipt

BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT, DELIVER_SM, UNBIND, ENQUIRE_LINK = 1, 2, 4, 5, 6, 0x15
RESP = 0x80000000
WAIT = 5.0  # seconds: the bound on every wait
CODE = "123456"


def pdu(command_id: int, status: int, sequence: int, body: bytes) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def receipt_text(message_id: str, stat: str, err: str = "000") -> bytes:
    return (
        f"id:{message_id} sub:001 dlvrd:001 submit date:2405021011 done date:2405021012 "
        f"stat:{stat} err:{err} Text:Your code is {CODE}"
    ).encode("ascii")


def deliver_sm_body(short_message: bytes, esm_class: int = 0x04, tlvs: bytes = b"") -> bytes:
    """A deliver_sm body as an SMSC writes one, from the phone 447079692712 to "Acme"."""
    return (
        b"\0"  # service_type
        + b"\x01\x01447079692712\0"  # source TON, NPI, address
        + b"\x05\x00Acme\0"  # destination TON, NPI, address
        + bytes([esm_class, 0, 0])  # esm_class, protocol_id, priority_flag
        + b"\0\0"  # schedule_delivery_time, validity_period
        + b"\0\0\0\0"  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        + bytes([len(short_message)])
        + short_message
        + tlvs
    )


def deliver(short_message: bytes = b"", esm_class: int = 0x04, tlvs: bytes = b"") -> Pdu:
    """A deliver_sm as the codec decodes it from the wire."""
    return decode(pdu(DELIVER_SM, 0, 9, deliver_sm_body(short_message, esm_class, tlvs)))


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", "DELIVERED"),
        ("UNDELIV", "UNDELIVERED"),
        ("REJECTD", "UNDELIVERED"),
        ("EXPIRED", "UNDELIVERED"),
        ("DELETED", "FAILED"),
        ("UNKNOWN", "SENT"),
        ("ENROUTE", "SENT"),
        ("ACCEPTD", "SENT"),
        ("SKIPPED", "SENT"),  # not SMPP 3.4: no final word, kept in the detail
    ],
)
def test_each_stat_of_the_receipt_text_maps_to_a_status(stat: str, status: str) -> None:
    receipt = parse_delivery_receipt(deliver(receipt_text("abc123", stat, err="034")))

    assert receipt == Receipt("abc123", status, detail=f"stat:{stat} err:034")


def test_the_text_after_text_is_never_read() -> None:
    short_message = b"id:abc123 stat:DELIVRD Text:stat:UNDELIV err:999 " + CODE.encode()

    receipt = parse_delivery_receipt(deliver(short_message))

    assert receipt == Receipt("abc123", "DELIVERED", detail="stat:DELIVRD")
    assert receipt is not None and CODE not in repr(receipt)


def test_field_names_and_stat_values_are_read_in_any_case() -> None:
    receipt = parse_delivery_receipt(deliver(b"ID:AbC123 SUB:001 Stat:delivrd Err:0"))

    assert receipt == Receipt("AbC123", "DELIVERED", detail="stat:DELIVRD err:0")


@pytest.mark.parametrize(
    ("state", "status"),
    [(1, "SENT"), (2, "DELIVERED"), (3, "UNDELIVERED"), (4, "FAILED"), (5, "UNDELIVERED"),
     (6, "SENT"), (7, "SENT"), (8, "UNDELIVERED"), (9, "SENT")],
)  # fmt: skip
def test_a_receipt_in_tlvs_only_is_read(state: int, status: str) -> None:
    tlvs = tlv(0x001E, b"abc123\0") + tlv(0x0427, bytes([state]))

    receipt = parse_delivery_receipt(deliver(tlvs=tlvs))

    assert receipt is not None and (receipt.provider_message_id, receipt.status) == (
        "abc123",
        status,
    )


def test_tlvs_win_over_the_text() -> None:
    tlvs = tlv(0x0427, b"\x02") + tlv(0x001E, b"abc123\0") + tlv(0x0423, b"\x03\x00\x22")

    receipt = parse_delivery_receipt(deliver(receipt_text("zzz", "UNDELIV", "034"), tlvs=tlvs))

    assert receipt == Receipt(
        "abc123", "DELIVERED", detail="stat:DELIVRD err:034 network error 3/34"
    )


def test_the_text_may_come_in_message_payload() -> None:
    receipt = parse_delivery_receipt(deliver(tlvs=tlv(0x0424, receipt_text("abc123", "EXPIRED"))))

    assert receipt == Receipt("abc123", "UNDELIVERED", detail="stat:EXPIRED err:000")


def test_a_receipt_id_without_nul_and_a_receipt_with_udhi_are_read() -> None:
    tlvs = tlv(0x001E, b"abc123") + tlv(0x0427, b"\x05")

    receipt = parse_delivery_receipt(deliver(esm_class=0x04 | 0x40, tlvs=tlvs))

    assert receipt is not None and receipt.provider_message_id == "abc123"


@pytest.mark.parametrize(
    "given",
    [
        deliver(receipt_text("abc123", "DELIVRD"), esm_class=0x00),  # a message from a phone
        deliver(receipt_text("abc123", "DELIVRD"), esm_class=0x08),  # an SME acknowledgement
        deliver(b"hello"),
        deliver(b""),
        deliver(b"id:abc123 sub:001 dlvrd:001"),  # no stat
        deliver(b"sub:001 stat:DELIVRD err:000"),  # no id
        deliver(b"id: stat:DELIVRD"),  # an empty id
        deliver(b"Text:id:abc123 stat:DELIVRD"),  # only inside the message text
        deliver(tlvs=b"\x04\x27\x00"),  # a cut TLV and no text
        deliver(tlvs=tlv(0x0427, b"\x02")),  # a state without an ID
        Pdu(SubmitSm("Acme", "447079692712", receipt_text("abc123", "DELIVRD"), esm_class=4), 1),
    ],
)
def test_what_is_no_usable_receipt_is_none(given: Pdu) -> None:
    assert parse_delivery_receipt(given) is None


def test_a_number_in_the_err_field_is_masked() -> None:
    receipt = parse_delivery_receipt(deliver(b"id:1 stat:UNDELIV err:447079692712"))

    assert receipt is not None and receipt.detail == "stat:UNDELIV err:***712"


def test_bind_receiver_and_tlvs_in_the_codec() -> None:
    bind = BindReceiver("esme01", "s3cret", "OTP")
    wire = Pdu(bind, 3).encode()

    assert wire[4:8] == b"\x00\x00\x00\x01" and decode(wire) == Pdu(bind, 3)
    assert decode(pdu(0x80000001, 0, 3, b"SMSC\0")) == Pdu(BindReceiverResp("SMSC"), 3)
    assert parse_tlvs(tlv(0x001E, b"a\0") + tlv(0x0427, b"\x02")) == {0x1E: b"a\0", 0x427: b"\2"}
    with pytest.raises(PduError):
        parse_tlvs(tlv(0x001E, b"abc")[:-1])


# --- the receiver session ----------------------------------------------------------------------


@dataclass
class Received:
    command_id: int
    status: int
    sequence: int
    body: bytes


@dataclass
class ReceiverSmsc:
    """Bind statuses in order (0 when run out); a batch of receipts per accepted receiver."""

    bind_statuses: list[int] = field(default_factory=list)
    batches: list[list[bytes]] = field(default_factory=list)  # deliver_sm bodies
    drop_after_batch: bool = False
    answer_enquire_link: bool = True
    answer_unbind: bool = True
    enquire_after_bind: bool = False
    submit_id: str = "abc123"
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        unanswered: set[int] = set()  # our deliver_sm sequences
        try:
            while True:
                header = await reader.readexactly(16)
                length, command_id, status, sequence = struct.unpack(">IIII", header)
                self.received.append(
                    Received(command_id, status, sequence, await reader.readexactly(length - 16))
                )
                if command_id in (BIND_RECEIVER, BIND_TRANSMITTER):
                    bind_status = self.bind_statuses.pop(0) if self.bind_statuses else 0
                    writer.write(pdu(command_id | RESP, bind_status, sequence, b"FakeSMSC\0"))
                    if command_id == BIND_RECEIVER and bind_status == 0:
                        unanswered = self._send_batch(writer)
                elif command_id == DELIVER_SM | RESP:
                    unanswered.discard(sequence)
                    if self.drop_after_batch and not unanswered:
                        break
                elif command_id == SUBMIT:
                    writer.write(pdu(SUBMIT | RESP, 0, sequence, f"{self.submit_id}\0".encode()))
                elif command_id == ENQUIRE_LINK and self.answer_enquire_link:
                    writer.write(pdu(ENQUIRE_LINK | RESP, 0, sequence, b""))
                elif command_id == UNBIND and self.answer_unbind:
                    writer.write(pdu(UNBIND | RESP, 0, sequence, b""))
                    await writer.drain()
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _send_batch(self, writer: asyncio.StreamWriter) -> set[int]:
        if self.enquire_after_bind:
            writer.write(pdu(ENQUIRE_LINK, 0, 500, b""))
        batch = self.batches.pop(0) if self.batches else []
        for number, body in enumerate(batch, 1000 * self.connections):
            writer.write(pdu(DELIVER_SM, 0, number, body))
        return set(range(1000 * self.connections, 1000 * self.connections + len(batch)))

    def commands(self) -> list[int]:
        return [r.command_id for r in self.received]

    def responses(self, command_id: int) -> list[Received]:
        return [r for r in self.received if r.command_id == command_id | RESP]


@pytest.fixture
async def smsc() -> AsyncIterator[ReceiverSmsc]:
    fake = ReceiverSmsc()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    yield fake
    server.close()
    await asyncio.wait_for(server.wait_closed(), WAIT)


def smpp_config(port: int, timeout: float = 2.0) -> GatewayConfig:
    parameters = {
        "SMSC_HOST": "127.0.0.1",
        "SMSC_PORT": port,
        "SYSTEM_ID": "esme01",
        "PASSWORD": "s3cret",
        "SYSTEM_TYPE": "OTP",
        "REGISTERED_DELIVERY": True,
    }
    return GatewayConfig(type="smpp", timeout_seconds=timeout, parameters=parameters)


class Collected:
    """The listener's callback: keeps each receipt, or fails while ``failing`` is set."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Receipt] = asyncio.Queue()
        self.failing = False

    async def __call__(self, receipt: Receipt) -> None:
        if self.failing:
            raise RuntimeError("the database is down")
        self.queue.put_nowait(receipt)

    async def next(self) -> Receipt:
        return await asyncio.wait_for(self.queue.get(), WAIT)


@pytest.fixture
async def collected() -> Collected:
    return Collected()


@pytest.fixture
async def listen(smsc: ReceiverSmsc, collected: Collected) -> AsyncIterator[Any]:
    """Starts a listener at the local SMSC with short intervals; stops it after the test."""
    started: list[ReceiptListener] = []

    def start(timeout: float = 2.0, **options: Any) -> ReceiptListener:
        options = {"backoff_seconds": (0.05, 0.2), "idle_seconds": 5.0} | options
        listener = ReceiptListener(smpp_config(smsc.port, timeout), collected, **options)
        listener.start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await asyncio.wait_for(listener.stop(), WAIT)


async def eventually(predicate: Any, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.01)


def bind_fields(body: bytes) -> list[bytes]:
    return body.split(b"\0")[:3]


async def test_a_receipt_is_handed_on_and_acknowledged(smsc, collected, listen) -> None:
    smsc.batches = [[deliver_sm_body(receipt_text("abc123", "DELIVRD"))]]

    listen()

    assert await collected.next() == Receipt("abc123", "DELIVERED", detail="stat:DELIVRD err:000")
    await eventually(lambda: smsc.responses(DELIVER_SM))
    (answer,) = smsc.responses(DELIVER_SM)
    assert (answer.status, answer.sequence, answer.body) == (0, 1000, b"\0")
    assert smsc.commands()[0] == BIND_RECEIVER
    assert bind_fields(smsc.received[0].body) == [b"esme01", b"s3cret", b"OTP"]


async def test_after_a_drop_the_listener_binds_again_and_gets_the_next_receipt(
    smsc, collected, listen
) -> None:
    smsc.drop_after_batch = True
    smsc.batches = [
        [deliver_sm_body(receipt_text("first", "ENROUTE"))],
        [deliver_sm_body(receipt_text("second", "DELIVRD"))],
    ]

    listener = listen()

    assert (await collected.next()).provider_message_id == "first"
    assert (await collected.next()).provider_message_id == "second"
    assert smsc.connections >= 2 and smsc.commands().count(BIND_RECEIVER) >= 2
    assert [r.status for r in smsc.responses(DELIVER_SM)] == [0, 0]
    await eventually(lambda: listener.bound)


async def test_a_refused_bind_is_tried_again_until_accepted(smsc, collected, listen) -> None:
    smsc.bind_statuses = [0x0E, 0x0D]  # ESME_RINVPASWD, then ESME_RBINDFAIL
    smsc.batches = [[deliver_sm_body(receipt_text("abc123", "DELIVRD"))]]

    listen()

    assert (await collected.next()).provider_message_id == "abc123"
    assert smsc.commands().count(BIND_RECEIVER) == 3 and smsc.connections == 3


async def test_a_failing_callback_answers_a_temporary_error(smsc, collected, listen) -> None:
    smsc.batches = [[deliver_sm_body(receipt_text("abc123", "DELIVRD"))]]
    collected.failing = True

    listen()

    await eventually(lambda: smsc.responses(DELIVER_SM))
    assert [r.status for r in smsc.responses(DELIVER_SM)] == [0x64]  # ESME_RX_T_APPN
    assert collected.queue.empty()


async def test_a_deliver_sm_that_is_no_receipt_is_acknowledged_and_dropped(
    smsc, collected, listen
) -> None:
    smsc.batches = [
        [
            deliver_sm_body(b"STOP", esm_class=0),
            deliver_sm_body(receipt_text("abc123", "UNDELIV")),
        ]
    ]

    listen()

    assert (await collected.next()).status == "UNDELIVERED"
    await eventually(lambda: len(smsc.responses(DELIVER_SM)) == 2)
    assert [r.status for r in smsc.responses(DELIVER_SM)] == [0, 0]
    assert collected.queue.empty()


async def test_enquire_link_is_answered_and_sent_when_idle(smsc, listen) -> None:
    smsc.enquire_after_bind = True

    listen(idle_seconds=0.1)

    await eventually(lambda: ENQUIRE_LINK in smsc.commands())
    await eventually(lambda: smsc.responses(ENQUIRE_LINK))
    assert [r.sequence for r in smsc.responses(ENQUIRE_LINK)] == [500]
    assert smsc.connections == 1


async def test_an_unanswered_enquire_link_means_binding_again(smsc, listen) -> None:
    smsc.answer_enquire_link = False

    listen(timeout=0.3, idle_seconds=0.1)

    await eventually(lambda: smsc.commands().count(BIND_RECEIVER) >= 2)
    assert smsc.commands()[:2] == [BIND_RECEIVER, ENQUIRE_LINK]


async def test_stop_unbinds_and_closes_promptly(smsc, listen) -> None:
    listener = listen()
    await eventually(lambda: listener.bound)

    started = time.monotonic()
    await asyncio.wait_for(listener.stop(), WAIT)

    assert time.monotonic() - started < 1.0
    assert smsc.commands() == [BIND_RECEIVER, UNBIND] and not listener.bound


async def test_stop_is_prompt_while_waiting_to_bind_again(smsc, listen) -> None:
    smsc.bind_statuses = [0x0E] * 100
    listener = listen(backoff_seconds=(30.0, 60.0))
    await eventually(lambda: BIND_RECEIVER in smsc.commands())

    started = time.monotonic()
    await asyncio.wait_for(listener.stop(), WAIT)

    assert time.monotonic() - started < 1.0
    assert smsc.commands() == [BIND_RECEIVER]


async def test_stop_waits_briefly_for_an_smsc_that_never_answers_unbind(smsc, listen) -> None:
    smsc.answer_unbind = False
    listener = listen(timeout=30.0)
    await eventually(lambda: listener.bound)

    started = time.monotonic()
    await asyncio.wait_for(listener.stop(), WAIT)

    assert time.monotonic() - started < STOP_SECONDS + 1.0
    assert smsc.commands() == [BIND_RECEIVER, UNBIND]
