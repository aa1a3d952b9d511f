"""SMPP 3.4 PDUs for an ESME bound as a transmitter or receiver: encoding, decoding, status names.

A PDU is a 16-octet header (command_length, command_id, command_status, sequence_number, all
big-endian unsigned 32-bit integers) followed by a body of C-octet strings (ASCII, NUL-terminated,
each with a maximum size that includes the NUL), single octets and, in submit_sm and deliver_sm,
one length-prefixed octet string. Optional parameters (TLVs) after the mandatory fields are kept
as raw bytes; ``parse_tlvs`` reads them by tag. Message texts are encoded and split into parts in
``providers.smpp_text``.
"""

import struct
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

HEADER = struct.Struct(">IIII")
MAX_PDU_LENGTH = 64 * 1024  # far above any PDU we exchange; a larger length means garbage
INTERFACE_VERSION = 0x34

# command_id values (a response is its request's id with the high bit set)
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_RECEIVER_RESP = 0x80000001
BIND_TRANSMITTER = 0x00000002
BIND_TRANSMITTER_RESP = 0x80000002
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015

# command_status values: name and a short description for admins (SMPP 3.4, section 5.1.3)
STATUSES: dict[int, tuple[str, str]] = {
    0x00: ("ESME_ROK", "no error"),
    0x01: ("ESME_RINVMSGLEN", "message length is invalid"),
    0x02: ("ESME_RINVCMDLEN", "command length is invalid"),
    0x03: ("ESME_RINVCMDID", "invalid command ID"),
    0x04: ("ESME_RINVBNDSTS", "incorrect bind status for this command"),
    0x05: ("ESME_RALYBND", "already bound"),
    0x08: ("ESME_RSYSERR", "system error"),
    0x0A: ("ESME_RINVSRCADR", "invalid source address"),
    0x0B: ("ESME_RINVDSTADR", "invalid destination address"),
    0x0D: ("ESME_RBINDFAIL", "bind failed"),
    0x0E: ("ESME_RINVPASWD", "invalid password"),
    0x0F: ("ESME_RINVSYSID", "invalid system ID"),
    0x14: ("ESME_RMSGQFUL", "message queue full"),
    0x15: ("ESME_RINVSERTYP", "invalid service type"),
    0x43: ("ESME_RINVESMCLASS", "invalid esm_class"),
    0x45: ("ESME_RSUBMITFAIL", "submit_sm failed"),
    0x48: ("ESME_RINVSRCTON", "invalid source address TON"),
    0x49: ("ESME_RINVSRCNPI", "invalid source address NPI"),
    0x50: ("ESME_RINVDSTTON", "invalid destination address TON"),
    0x51: ("ESME_RINVDSTNPI", "invalid destination address NPI"),
    0x53: ("ESME_RINVSYSTYP", "invalid system type"),
    0x58: ("ESME_RTHROTTLED", "throttling error: too many messages"),
    0x61: ("ESME_RINVSCHED", "invalid scheduled delivery time"),
    0x62: ("ESME_RINVEXPIRY", "invalid validity period"),
    0x64: ("ESME_RX_T_APPN", "temporary application error"),
    0x65: ("ESME_RX_P_APPN", "permanent application error"),
    0x66: ("ESME_RX_R_APPN", "application error, message rejected"),
    0xC0: ("ESME_RINVOPTPARSTREAM", "error in the optional part of the PDU"),
    0xC1: ("ESME_ROPTPARNOTALLWD", "optional parameter not allowed"),
    0xC2: ("ESME_RINVPARLEN", "invalid parameter length"),
    0xC3: ("ESME_RMISSINGOPTPARAM", "expected optional parameter missing"),
    0xC4: ("ESME_RINVOPTPARAMVAL", "invalid optional parameter value"),
    0xFE: ("ESME_RDELIVERYFAILURE", "delivery failure"),
    0xFF: ("ESME_RUNKNOWNERR", "unknown error"),
}
ESME_ROK = 0x00
ESME_RINVCMDID = 0x03
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RUNKNOWNERR = 0xFF


def status_text(status: int) -> str:
    """A readable status for reasons and logs, e.g. ``ESME_RINVPASWD (0x0000000E, invalid ...)``."""
    name, description = STATUSES.get(status, ("unknown status", "not defined by SMPP 3.4"))
    return f"{name} (0x{status:08X}, {description})"


class PduError(ValueError):
    """Bytes that are not a valid PDU, or a field that does not fit its PDU."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def cstring(self, max_size: int, name: str) -> str:
        end = self.data.find(b"\0", self.pos, self.pos + max_size)
        if end < 0:
            raise PduError(f"{name} is not NUL-terminated within {max_size} octets")
        value, self.pos = self.data[self.pos : end].decode("latin-1"), end + 1
        return value

    def u8(self, name: str) -> int:
        if self.pos >= len(self.data):
            raise PduError(f"the PDU ends before {name}")
        self.pos += 1
        return self.data[self.pos - 1]

    def octets(self, size: int, name: str) -> bytes:
        if self.pos + size > len(self.data):
            raise PduError(f"the PDU ends inside {name}")
        self.pos += size
        return self.data[self.pos - size : self.pos]

    def rest(self) -> bytes:
        return self.data[self.pos :]


def _cstring(value: str, max_size: int, name: str) -> bytes:
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        raise PduError(f"{name} must be ASCII") from None
    if b"\0" in raw or len(raw) >= max_size:
        raise PduError(f"{name} must be at most {max_size - 1} characters without NUL")
    return raw + b"\0"


def _u8(value: int, name: str) -> bytes:
    if not 0 <= value <= 255:
        raise PduError(f"{name} must be from 0 to 255")
    return bytes([value])


OCTET = 0  # layout size of a one-octet integer
SM = -1  # layout size of sm_length followed by that many octets (short_message)


class Body:
    """A PDU body. ``layout`` lists its mandatory fields in wire order with their sizes: the
    maximum size of a C-octet string (NUL included), ``OCTET`` or ``SM``. A ``tlvs`` field keeps
    the optional parameters as raw bytes."""

    command_id: ClassVar[int]
    layout: ClassVar[tuple[tuple[str, int], ...]] = ()

    def encode(self) -> bytes:
        parts = []
        for name, size in self.layout:
            value = getattr(self, name)
            if size == OCTET:
                parts.append(_u8(value, name))
            elif size == SM:
                if len(value) > 254:
                    raise PduError(f"{name} must be at most 254 octets")
                parts.append(bytes([len(value)]) + value)
            else:
                parts.append(_cstring(value, size, name))
        return b"".join(parts) + getattr(self, "tlvs", b"")

    @classmethod
    def decode(cls, data: bytes) -> Self:
        if not data and cls.command_id & GENERIC_NACK:
            return cls()  # a response may omit its body (SMPP 3.4 allows it after an error)
        r = _Reader(data)
        values: dict[str, Any] = {}
        for name, size in cls.layout:
            if size == OCTET:
                values[name] = r.u8(name)
            elif size == SM:
                values[name] = r.octets(r.u8(name), name)
            else:
                values[name] = r.cstring(size, name)
        if "tlvs" in {f.name for f in fields(cls)}:
            values["tlvs"] = r.rest()
        elif r.rest():
            raise PduError(f"{len(r.rest())} unexpected octets after the {cls.__name__} body")
        return cls(**values)


@dataclass(frozen=True)
class BindTransmitter(Body):
    command_id: ClassVar[int] = BIND_TRANSMITTER
    layout: ClassVar = (
        ("system_id", 16), ("password", 9), ("system_type", 13), ("interface_version", OCTET),
        ("addr_ton", OCTET), ("addr_npi", OCTET), ("address_range", 41),
    )  # fmt: skip
    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True)
class BindTransmitterResp(Body):
    command_id: ClassVar[int] = BIND_TRANSMITTER_RESP
    layout: ClassVar = (("system_id", 16),)
    system_id: str = ""
    tlvs: bytes = b""


@dataclass(frozen=True)
class BindReceiver(BindTransmitter):
    command_id: ClassVar[int] = BIND_RECEIVER


@dataclass(frozen=True)
class BindReceiverResp(BindTransmitterResp):
    command_id: ClassVar[int] = BIND_RECEIVER_RESP


@dataclass(frozen=True)
class SubmitSmResp(Body):
    command_id: ClassVar[int] = SUBMIT_SM_RESP
    layout: ClassVar = (("message_id", 65),)
    message_id: str = ""
    tlvs: bytes = b""


@dataclass(frozen=True)
class DeliverSmResp(SubmitSmResp):
    """deliver_sm_resp: the same body as submit_sm_resp, with message_id unused (empty)."""

    command_id: ClassVar[int] = DELIVER_SM_RESP


@dataclass(frozen=True)
class SubmitSm(Body):
    """submit_sm; deliver_sm has the same body (``DeliverSm``)."""

    command_id: ClassVar[int] = SUBMIT_SM
    layout: ClassVar = (
        ("service_type", 6), ("source_addr_ton", OCTET), ("source_addr_npi", OCTET),
        ("source_addr", 21), ("dest_addr_ton", OCTET), ("dest_addr_npi", OCTET),
        ("destination_addr", 21), ("esm_class", OCTET), ("protocol_id", OCTET),
        ("priority_flag", OCTET), ("schedule_delivery_time", 17), ("validity_period", 17),
        ("registered_delivery", OCTET), ("replace_if_present_flag", OCTET),
        ("data_coding", OCTET), ("sm_default_msg_id", OCTET), ("short_message", SM),
    )  # fmt: skip
    source_addr: str
    destination_addr: str
    short_message: bytes
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 1
    dest_addr_npi: int = 1
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: bytes = b""


@dataclass(frozen=True)
class DeliverSm(SubmitSm):
    """deliver_sm: from the SMSC, for example a delivery receipt (esm_class 0x04)."""

    command_id: ClassVar[int] = DELIVER_SM


@dataclass(frozen=True)
class GenericNack(Body):
    command_id: ClassVar[int] = GENERIC_NACK


@dataclass(frozen=True)
class Unbind(Body):
    command_id: ClassVar[int] = UNBIND


@dataclass(frozen=True)
class UnbindResp(Body):
    command_id: ClassVar[int] = UNBIND_RESP


@dataclass(frozen=True)
class EnquireLink(Body):
    command_id: ClassVar[int] = ENQUIRE_LINK


@dataclass(frozen=True)
class EnquireLinkResp(Body):
    command_id: ClassVar[int] = ENQUIRE_LINK_RESP


BODIES: dict[int, type[Body]] = {
    cls.command_id: cls
    for cls in (
        GenericNack, BindTransmitter, BindTransmitterResp, BindReceiver, BindReceiverResp,
        SubmitSm, SubmitSmResp, DeliverSm, DeliverSmResp, Unbind, UnbindResp, EnquireLink,
        EnquireLinkResp,
    )
}  # fmt: skip


@dataclass(frozen=True)
class Pdu:
    """One PDU: its typed body plus the header's sequence number and command_status."""

    body: Body
    sequence: int
    status: int = ESME_ROK

    @property
    def command_id(self) -> int:
        return self.body.command_id

    def encode(self) -> bytes:
        payload = self.body.encode()
        header = HEADER.pack(
            HEADER.size + len(payload), self.command_id, self.status, self.sequence
        )
        return header + payload


def parse_tlvs(data: bytes) -> dict[int, bytes]:
    """Optional parameters by tag: each is a 16-bit tag, a 16-bit length and that many octets."""
    tlvs, pos = {}, 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise PduError("an optional parameter ends inside its tag or length")
        tag, length = struct.unpack_from(">HH", data, pos)
        if pos + 4 + length > len(data):
            raise PduError(f"optional parameter 0x{tag:04X} ends early")
        tlvs[tag], pos = data[pos + 4 : pos + 4 + length], pos + 4 + length
    return tlvs


def pdu_length(header: bytes) -> int:
    """The command_length from a PDU's first four octets, checked to be plausible."""
    (length,) = struct.unpack(">I", header[:4])
    if not HEADER.size <= length <= MAX_PDU_LENGTH:
        raise PduError(f"implausible command_length {length}")
    return length


def decode(data: bytes) -> Pdu:
    """The PDU in ``data``, which holds exactly one whole PDU."""
    if len(data) < HEADER.size or pdu_length(data) != len(data):
        raise PduError("command_length does not match the PDU's size")
    _, command_id, status, sequence = HEADER.unpack_from(data)
    body = BODIES.get(command_id)
    if body is None:
        raise PduError(f"unsupported command_id 0x{command_id:08X}")
    return Pdu(body.decode(data[HEADER.size :]), sequence, status)
