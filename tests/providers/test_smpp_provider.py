"""The ``smpp`` provider against a real local SMSC: the exact PDUs sent and how answers count.

``FakeSmsc`` is an asyncio server on 127.0.0.1 that parses the client's PDUs with its own minimal
parser (not ``providers.smpp_codec``), records them and answers from a small script: the bind
status, one status per submit_sm, or silence.
"""

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from providers.base import (
    Accepted,
    GatewayConfig,
    OutboundMessage,
    Proxy,
    Rejected,
    Unavailable,
)
from providers.smpp import provider
from providers.transport import TransportError

PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
BIND, SUBMIT, UNBIND, ENQUIRE_LINK = 0x02, 0x04, 0x06, 0x15


@dataclass
class Received:
    command_id: int
    sequence: int
    body: bytes


@dataclass
class FakeSmsc:
    """What the SMSC answers: a bind status, submit statuses in order (0 when run out), or none."""

    bind_status: int = 0
    submit_statuses: list[int] = field(default_factory=list)
    silent: bool = False
    close_after_bind: bool = False
    enquire_before_submit_resp: bool = False
    received: list[Received] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        submits = 0
        try:
            while True:
                header = await reader.readexactly(16)
                length, command_id, _, sequence = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)
                self.received.append(Received(command_id, sequence, body))
                if self.silent:
                    continue
                if command_id == BIND:
                    writer.write(pdu(0x80000002, self.bind_status, sequence, b"FakeSMSC\0"))
                    if self.close_after_bind:
                        break
                elif command_id == SUBMIT:
                    submits += 1
                    if self.enquire_before_submit_resp:
                        writer.write(pdu(ENQUIRE_LINK, 0, 77, b""))
                        await writer.drain()
                        assert struct.unpack(">IIII", await reader.readexactly(16)) == (
                            16, 0x80000015, 0, 77,
                        )  # fmt: skip
                    status = self.submit_statuses.pop(0) if self.submit_statuses else 0
                    message_id = f"msg-{submits}\0".encode() if status == 0 else b""
                    writer.write(pdu(0x80000004, status, sequence, message_id))
                elif command_id == UNBIND:
                    writer.write(pdu(0x80000006, 0, sequence, b""))
                    await writer.drain()
                    break
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    def commands(self) -> list[int]:
        return [r.command_id for r in self.received]

    def submits(self) -> list[dict[str, Any]]:
        return [parse_submit(r.body) for r in self.received if r.command_id == SUBMIT]


def pdu(command_id: int, status: int, sequence: int, body: bytes) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def cstrings(body: bytes, pos: int, count: int) -> tuple[list[str], int]:
    values = []
    for _ in range(count):
        end = body.index(b"\0", pos)
        values.append(body[pos:end].decode("ascii"))
        pos = end + 1
    return values, pos


def parse_bind(body: bytes) -> dict[str, Any]:
    (system_id, password, system_type), pos = cstrings(body, 0, 3)
    version, ton, npi = body[pos : pos + 3]
    (address_range,), pos = cstrings(body, pos + 3, 1)
    assert pos == len(body)
    return dict(system_id=system_id, password=password, system_type=system_type,
                version=version, ton=ton, npi=npi, address_range=address_range)  # fmt: skip


def parse_submit(body: bytes) -> dict[str, Any]:
    (service_type,), pos = cstrings(body, 0, 1)
    source_ton, source_npi = body[pos : pos + 2]
    (source,), pos = cstrings(body, pos + 2, 1)
    dest_ton, dest_npi = body[pos : pos + 2]
    (dest,), pos = cstrings(body, pos + 2, 1)
    esm_class, protocol_id, priority = body[pos : pos + 3]
    (schedule, validity), pos = cstrings(body, pos + 3, 2)
    registered, replace, data_coding, default_id, length = body[pos : pos + 5]
    short_message = body[pos + 5 : pos + 5 + length]
    assert pos + 5 + length == len(body)  # no optional parameters
    assert (service_type, protocol_id, priority, schedule, validity) == ("", 0, 0, "", "")
    assert (replace, default_id) == (0, 0)
    return dict(source=(source_ton, source_npi, source), dest=(dest_ton, dest_npi, dest),
                esm_class=esm_class, registered=registered, data_coding=data_coding,
                short_message=short_message)  # fmt: skip


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSmsc]:
    fake = FakeSmsc()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    yield fake
    server.close()
    await server.wait_closed()


def gateway(
    port: int, *, sender_id: str | None = "Acme", timeout: float = 5.0, **parameters: Any
) -> GatewayConfig:
    """An smpp gateway at the local SMSC, with every declared default filled in."""
    values = {p.name: p.default for p in provider.type.parameters if p.default is not None}
    values.update(SMSC_HOST="127.0.0.1", SMSC_PORT=port, SYSTEM_ID="esme01", PASSWORD="s3cret")
    values.update(parameters)
    return GatewayConfig(
        type="smpp", sender_id=sender_id, timeout_seconds=timeout, parameters=values
    )


async def send(smsc: FakeSmsc, message: OutboundMessage = MESSAGE, **parameters: Any) -> Any:
    return await provider.send(message, gateway(smsc.port, **parameters), transport=None)  # type: ignore[arg-type]


# --- the session -------------------------------------------------------------------------------


async def test_a_message_is_bound_submitted_and_unbound(smsc: FakeSmsc) -> None:
    result = await send(smsc, SYSTEM_TYPE="OTP")

    assert result == Accepted(provider_message_id="msg-1")
    assert smsc.commands() == [BIND, SUBMIT, UNBIND]
    assert [r.sequence for r in smsc.received] == [1, 2, 3]
    assert parse_bind(smsc.received[0].body) == dict(
        system_id="esme01", password="s3cret", system_type="OTP",
        version=0x34, ton=0, npi=0, address_range="",
    )  # fmt: skip
    assert smsc.submits() == [
        dict(
            source=(5, 0, "Acme"),
            dest=(1, 1, "447079692712"),
            esm_class=0,
            registered=1,
            data_coding=0,
            short_message=TEXT.encode("ascii"),
        )
    ]


async def test_a_numeric_source_address_is_international_without_plus(smsc: FakeSmsc) -> None:
    await send(smsc, S_ADDR="+4915112345678", REGISTERED_DELIVERY=False)

    (submit,) = smsc.submits()
    assert submit["source"] == (1, 1, "4915112345678")
    assert submit["registered"] == 0


async def test_declared_ton_and_npi_are_sent(smsc: FakeSmsc) -> None:
    await send(smsc, S_ADDR="12345", S_ADDR_TON=3, S_ADDR_NPI=0, D_ADDR_TON=0, D_ADDR_NPI=9)

    (submit,) = smsc.submits()
    assert (submit["source"], submit["dest"]) == ((3, 0, "12345"), (0, 9, "447079692712"))


async def test_a_long_text_is_sent_in_parts_with_concatenation_headers(smsc: FakeSmsc) -> None:
    text = "Your code is 123456. " * 10  # 210 GSM characters

    result = await send(smsc, OutboundMessage(to=PHONE, text=text, reference="7"))

    assert result == Accepted(provider_message_id="msg-1,msg-2")
    assert smsc.commands() == [BIND, SUBMIT, SUBMIT, UNBIND]
    first, second = smsc.submits()
    assert (first["esm_class"], second["esm_class"]) == (0x40, 0x40)
    assert (first["data_coding"], second["data_coding"]) == (0, 0)
    udh1, udh2 = first["short_message"][:6], second["short_message"][:6]
    assert udh1[:3] == udh2[:3] == b"\x05\x00\x03"
    assert udh1[3] == udh2[3]  # the same reference
    assert (udh1[4:], udh2[4:]) == (b"\x02\x01", b"\x02\x02")
    assert len(first["short_message"]) == 6 + 153
    assert first["short_message"][6:] + second["short_message"][6:] == text.encode("ascii")


async def test_a_long_unicode_text_is_sent_as_ucs2_parts(smsc: FakeSmsc) -> None:
    text = "Ваш код 123456. " * 6  # 96 characters outside GSM 03.38

    result = await send(smsc, OutboundMessage(to=PHONE, text=text, reference="7"))

    assert isinstance(result, Accepted)
    parts = [s["short_message"] for s in smsc.submits()]
    assert [s["data_coding"] for s in smsc.submits()] == [8, 8]
    assert [len(p) for p in parts] == [6 + 134, 6 + 58]
    assert b"".join(p[6:] for p in parts).decode("utf-16-be") == text


async def test_an_enquire_link_while_waiting_is_answered(smsc: FakeSmsc) -> None:
    smsc.enquire_before_submit_resp = True

    assert await send(smsc) == Accepted(provider_message_id="msg-1")


# --- refusals ----------------------------------------------------------------------------------


async def test_a_refused_bind_is_rejected_with_the_status_name(smsc: FakeSmsc) -> None:
    smsc.bind_status = 0x0E  # ESME_RINVPASWD

    result = await send(smsc)

    assert isinstance(result, Rejected)
    assert result.reason == "bind refused: ESME_RINVPASWD (0x0000000E, invalid password)"
    assert SUBMIT not in smsc.commands()


async def test_a_refused_submit_is_rejected_and_the_session_unbound(smsc: FakeSmsc) -> None:
    smsc.submit_statuses = [0x0B]  # ESME_RINVDSTADR

    result = await send(smsc)

    assert isinstance(result, Rejected)
    assert result.reason.startswith("submit_sm refused: ESME_RINVDSTADR")
    assert "447079692712" not in result.reason and TEXT not in result.reason
    assert smsc.commands() == [BIND, SUBMIT, UNBIND]


@pytest.mark.parametrize(("status", "name"), [(0x58, "ESME_RTHROTTLED"), (0x14, "ESME_RMSGQFUL")])
async def test_throttling_and_a_full_queue_are_unavailable(
    smsc: FakeSmsc, status: int, name: str
) -> None:
    smsc.submit_statuses = [0, status]
    text = "x" * 200

    result = await send(smsc, OutboundMessage(to=PHONE, text=text, reference="7"))

    assert isinstance(result, Unavailable)
    assert result.reason.startswith(f"submit_sm refused for part 2 of 2: {name}")


async def test_a_text_needing_more_than_255_parts_is_rejected_without_connecting(
    smsc: FakeSmsc,
) -> None:
    message = OutboundMessage(to=PHONE, text="x" * 153 * 256, reference="7")

    result = await send(smsc, message)

    assert isinstance(result, Rejected)
    assert "more than 255" in result.reason
    assert smsc.received == []


# --- unreachable SMSCs -------------------------------------------------------------------------


async def test_an_smsc_that_never_answers_raises_transport_error_in_time(smsc: FakeSmsc) -> None:
    smsc.silent = True
    started = time.monotonic()

    with pytest.raises(TransportError, match="no answer from the SMSC within 0.5 s"):
        await provider.send(MESSAGE, gateway(smsc.port, timeout=0.5), transport=None)  # type: ignore[arg-type]

    assert time.monotonic() - started < 2
    assert smsc.commands() == [BIND]


async def test_a_connection_dropped_after_bind_raises_transport_error(smsc: FakeSmsc) -> None:
    smsc.close_after_bind = True

    with pytest.raises(TransportError, match="closed the connection"):
        await send(smsc)


async def test_a_closed_port_raises_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(TransportError, match=f"cannot connect to 127.0.0.1:{port}"):
        await provider.send(MESSAGE, gateway(port), transport=None)  # type: ignore[arg-type]


# --- declaration and configuration -------------------------------------------------------------


def test_the_declaration_keeps_privacyideas_names() -> None:
    declared = {p.name: p for p in provider.type.parameters}

    assert list(declared)[:4] == ["SMSC_HOST", "SMSC_PORT", "SYSTEM_ID", "PASSWORD"]
    assert {"S_ADDR", "SYSTEM_TYPE", "S_ADDR_TON", "D_ADDR_NPI", "REGISTERED_DELIVERY"} <= set(
        declared
    )
    assert declared["PASSWORD"].secret and declared["PASSWORD"].required
    assert declared["SMSC_PORT"].default == 2775
    assert provider.type.key == "smpp"
    assert (provider.type.url_editable, provider.type.default_url) == (False, None)


def test_a_complete_configuration_has_no_problems() -> None:
    assert provider.check_configuration(gateway(2775)) == []
    assert provider.check_configuration(gateway(2775, sender_id=None)) == []


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"SMSC_PORT": 70000}, "parameters.SMSC_PORT"),
        ({"SMSC_HOST": "smpp://smsc.example"}, "parameters.SMSC_HOST"),
        ({"SYSTEM_ID": "x" * 16}, "parameters.SYSTEM_ID"),
        ({"PASSWORD": "ninechars"}, "parameters.PASSWORD"),
        ({"SYSTEM_TYPE": "x" * 13}, "parameters.SYSTEM_TYPE"),
        ({"S_ADDR_TON": 256}, "parameters.S_ADDR_TON"),
        ({"D_ADDR_NPI": -1}, "parameters.D_ADDR_NPI"),
        ({"S_ADDR": "AcmeBankLtd2"}, "parameters.S_ADDR"),
        ({"S_ADDR": "+" + "1" * 21}, "parameters.S_ADDR"),
        ({"S_ADDR": "Åcme"}, "parameters.S_ADDR"),
    ],
)
def test_values_smpp_cannot_carry_are_refused(parameters: dict[str, Any], field: str) -> None:
    problems = provider.check_configuration(gateway(2775, **parameters))

    assert [p.field for p in problems] == [field]


def test_a_long_sender_id_is_refused_when_s_addr_is_empty() -> None:
    problems = provider.check_configuration(gateway(2775, sender_id="AcmeBankLtd2"))

    assert [p.field for p in problems] == ["senderId"]


def test_a_proxy_is_refused() -> None:
    config = gateway(2775)
    config = GatewayConfig(type="smpp", parameters=config.parameters, proxy=Proxy(host="p"))

    assert [p.field for p in provider.check_configuration(config)] == ["proxy.host"]
