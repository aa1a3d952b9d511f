"""SMPP 3.4 PDUs and message texts: byte vectors written from the spec, round-trips, UDH splits."""

import pytest

from providers.smpp_codec import (
    BindTransmitter,
    BindTransmitterResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    PduError,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    decode,
    status_text,
)
from providers.smpp_text import DATA_CODING_GSM7, DATA_CODING_UCS2, split_message

# bind_transmitter, sequence 1: system_id "SMPP3TEST", password "secret08", system_type "SUBMIT1",
# interface_version 0x34, addr_ton 1, addr_npi 1, address_range "" (31 octets of body).
BIND_BYTES = bytes.fromhex(
    "0000002f" "00000002" "00000000" "00000001"
    "534d50503354455354 00" "7365637265743038 00" "5355424d495431 00" "34 01 01" "00"
)  # fmt: skip

# submit_sm, sequence 2: from "Acme" (TON 5, NPI 0) to 447079692712 (1/1), registered_delivery 1,
# data_coding 0, short_message "Hello" (38 octets of body).
SUBMIT_BYTES = bytes.fromhex(
    "00000036" "00000004" "00000000" "00000002"
    "00"  # service_type ""
    "05 00" "41636d65 00"  # source TON, NPI, address
    "01 01" "343437303739363932373132 00"  # destination TON, NPI, address
    "00 00 00"  # esm_class, protocol_id, priority_flag
    "00 00"  # schedule_delivery_time "", validity_period ""
    "01 00 00 00"  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
    "05" "48656c6c6f"  # sm_length, short_message
)  # fmt: skip

SUBMIT = SubmitSm(
    source_addr="Acme",
    destination_addr="447079692712",
    short_message=b"Hello",
    source_addr_ton=5,
    source_addr_npi=0,
    registered_delivery=1,
)


def test_bind_transmitter_encodes_to_the_spec_bytes() -> None:
    bind = BindTransmitter("SMPP3TEST", "secret08", "SUBMIT1", addr_ton=1, addr_npi=1)

    assert Pdu(bind, 1).encode() == BIND_BYTES
    assert decode(BIND_BYTES) == Pdu(bind, 1)


def test_submit_sm_encodes_to_the_spec_bytes() -> None:
    assert Pdu(SUBMIT, 2).encode() == SUBMIT_BYTES
    assert decode(SUBMIT_BYTES) == Pdu(SUBMIT, 2)


@pytest.mark.parametrize(
    "pdu",
    [
        Pdu(BindTransmitter("esme", "pw", "OTP"), 1),
        Pdu(BindTransmitterResp("SMSC"), 1),
        Pdu(BindTransmitterResp("SMSC", tlvs=bytes.fromhex("0210000134")), 1),
        Pdu(SUBMIT, 0x7FFFFFFF),
        Pdu(SubmitSm("", "1", b"\x05\x00\x03\x01\x02\x01abc", esm_class=0x40, data_coding=8), 3),
        Pdu(SubmitSmResp("5f3e-01"), 2),
        Pdu(DeliverSm("447079692712", "Acme", b"id:5f3e-01 stat:DELIVRD", esm_class=4), 9),
        Pdu(DeliverSmResp(), 9),
        Pdu(Unbind(), 4),
        Pdu(UnbindResp(), 4),
        Pdu(EnquireLink(), 5),
        Pdu(EnquireLinkResp(), 5),
        Pdu(GenericNack(), 6, status=0x03),
        Pdu(SubmitSmResp(), 2, status=0x0B),
    ],
    ids=lambda pdu: type(pdu.body).__name__,
)
def test_every_pdu_round_trips(pdu: Pdu) -> None:
    assert decode(pdu.encode()) == pdu


def test_header_fields_are_big_endian() -> None:
    data = Pdu(SubmitSmResp("abc"), 0x01020304, status=0x58).encode()

    assert data.hex() == "0000001480000004000000580102030461626300"


def test_responses_without_a_body_decode_with_empty_fields() -> None:
    for command_id, expected in ((0x80000002, BindTransmitterResp()), (0x80000004, SubmitSmResp())):
        data = bytes.fromhex(f"00000010{command_id:08x}0000000e00000001")

        assert decode(data) == Pdu(expected, 1, status=0x0E)


def test_deliver_sm_resp_carries_an_empty_message_id() -> None:
    assert Pdu(DeliverSmResp(), 7).encode() == bytes.fromhex("0000001180000005000000000000000700")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes.fromhex("0000000f000000150000000000000001"), "command_length"),
        (bytes.fromhex("00000011000000150000000000000001"), "command_length"),
        (bytes.fromhex("00000010000001020000000000000001"), "unsupported command_id"),
        (bytes.fromhex("0000001100000015000000000000000100"), "unexpected octets"),
        (BIND_BYTES[:-1], "command_length"),
        (bytes.fromhex("000000158000000400000000000000016162636465"), "NUL"),
        (SUBMIT_BYTES[:-3].replace(b"\x00\x00\x00\x36", b"\x00\x00\x00\x33", 1), "ends inside"),
    ],
)
def test_malformed_pdus_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(PduError, match=message):
        decode(data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BindTransmitter("sixteen-chars-xx", "pw"), "system_id must be at most 15"),
        (BindTransmitter("esme", "ninechars"), "password must be at most 8"),
        (BindTransmitter("esme", "pässwd"), "password must be ASCII"),
        (SubmitSm("A" * 21, "1", b""), "source_addr must be at most 20"),
        (SubmitSm("A", "1", b"x" * 255), "short_message must be at most 254"),
        (SubmitSm("A", "1", b"", source_addr_ton=256), "source_addr_ton must be from 0 to 255"),
    ],
)
def test_fields_that_do_not_fit_are_refused_when_encoding(body: object, message: str) -> None:
    with pytest.raises(PduError, match=message):
        Pdu(body, 1).encode()  # type: ignore[arg-type]


def test_status_names_are_readable() -> None:
    assert status_text(0x0E) == "ESME_RINVPASWD (0x0000000E, invalid password)"
    assert status_text(0x58).startswith("ESME_RTHROTTLED (0x00000058")
    assert status_text(0x400) == "unknown status (0x00000400, not defined by SMPP 3.4)"


# --- message texts -----------------------------------------------------------------------------


def test_gsm_text_is_sent_as_unpacked_septets() -> None:
    sms = split_message("@£$ Hello {x} €5 ü_")

    assert sms.data_coding == DATA_CODING_GSM7
    assert sms.esm_class == 0
    assert sms.parts == (bytes.fromhex("000102 20 48656c6c6f 20 1b28 78 1b29 20 1b65 35 20 7e 11"),)


def test_text_outside_gsm_is_sent_as_ucs2_big_endian() -> None:
    sms = split_message("Код 1 😀")

    assert sms.data_coding == DATA_CODING_UCS2
    assert sms.parts == (bytes.fromhex("041a043e0434 0020 0031 0020 d83dde00"),)


@pytest.mark.parametrize(("text", "coding"), [("a" * 160, 0), ("€" * 80, 0), ("ж" * 70, 8)])
def test_a_full_single_part_has_no_header(text: str, coding: int) -> None:
    sms = split_message(text, reference=9)

    assert (sms.data_coding, sms.esm_class, len(sms.parts)) == (coding, 0, 1)


def test_a_200_character_gsm_text_is_split_into_two_parts_with_udh() -> None:
    text = "".join(str(i % 10) for i in range(200))

    sms = split_message(text, reference=0xA7)

    assert (sms.data_coding, sms.esm_class) == (DATA_CODING_GSM7, 0x40)
    assert [part[:6].hex() for part in sms.parts] == ["050003a70201", "050003a70202"]
    assert [len(part) - 6 for part in sms.parts] == [153, 47]
    assert b"".join(part[6:] for part in sms.parts) == text.encode("ascii")


def test_a_100_character_ucs2_text_is_split_into_two_parts_with_udh() -> None:
    text = "Ж" * 100

    sms = split_message(text, reference=3)

    assert (sms.data_coding, sms.esm_class) == (DATA_CODING_UCS2, 0x40)
    assert [part[:6].hex() for part in sms.parts] == ["050003030201", "050003030202"]
    assert [len(part) - 6 for part in sms.parts] == [134, 66]  # 67 and 33 UCS-2 units
    assert b"".join(part[6:] for part in sms.parts).decode("utf-16-be") == text


def test_gsm_extension_characters_count_double_and_are_never_cut() -> None:
    assert len(split_message("a" * 159 + "€").parts) == 2  # 161 septets

    sms = split_message("€" * 81)  # 162 septets; 153 would cut the 77th escape sequence

    assert [len(part) - 6 for part in sms.parts] == [152, 10]
    assert all(part[6:].startswith(b"\x1b\x65") for part in sms.parts)


def test_a_surrogate_pair_is_never_cut() -> None:
    sms = split_message("😀" * 36)  # 72 units

    assert [len(part) - 6 for part in sms.parts] == [132, 12]  # 33 and 3 emoji


def test_a_text_needing_more_than_255_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 255"):
        split_message("a" * 153 * 256)
