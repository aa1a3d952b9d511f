"""Message texts for SMPP: GSM 03.38 or UCS-2 encoding, and long texts split into UDH parts.

A text that the GSM 03.38 default alphabet (with its extension table) can write is sent with
data_coding 0 as unpacked septets, one septet value per octet; an extension character is the
escape septet 0x1B followed by its code, so it counts double. Any other text is sent with
data_coding 8 as UCS-2 (UTF-16 big-endian; a character outside the BMP takes two units). One part
holds 160 septets or 70 UCS-2 units. A longer text is split into parts of at most 153 septets or 67
units, each starting with the 6-octet concatenation header ``05 00 03 ref total seq`` and sent with
esm_class 0x40 (UDHI). A part never splits an escape sequence or a surrogate pair.
(``domain.sms_text`` counts segments the same way; providers may not import ``domain``.)
"""

from dataclasses import dataclass

ESCAPE = 0x1B
# The GSM 03.38 default alphabet in septet order; position 0x1B is the escape to the extension.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {
    "\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F,
    "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
}  # fmt: skip
_SEPTETS = {ch: bytes([i]) for i, ch in enumerate(GSM7_BASIC) if i != ESCAPE} | {
    ch: bytes([ESCAPE, code]) for ch, code in GSM7_EXTENSION.items()
}

DATA_CODING_GSM7 = 0  # the SMSC default alphabet, GSM 03.38 on almost every SMSC
DATA_CODING_UCS2 = 8
ESM_CLASS_UDHI = 0x40  # short_message starts with a user data header
MAX_PARTS = 255
# Octets per part: (one part, each part of a split text); a septet takes one octet unpacked.
LIMITS = {DATA_CODING_GSM7: (160, 153), DATA_CODING_UCS2: (140, 134)}


@dataclass(frozen=True)
class SmsParts:
    """A text ready for submit_sm: its data_coding, esm_class and one short_message per part."""

    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]


def encode_characters(text: str) -> tuple[int, list[bytes]]:
    """The data_coding that can write ``text`` and the encoded octets of each character."""
    if all(ch in _SEPTETS for ch in text):
        return DATA_CODING_GSM7, [_SEPTETS[ch] for ch in text]
    return DATA_CODING_UCS2, [ch.encode("utf-16-be") for ch in text]


def split_message(text: str, reference: int = 0) -> SmsParts:
    """``text`` as one part, or as parts with concatenation headers carrying ``reference``.

    Raises ``ValueError`` for a text that needs more than 255 parts.
    """
    if not 0 <= reference <= 255:
        raise ValueError("the concatenation reference must be from 0 to 255")
    data_coding, characters = encode_characters(text)
    single, per_part = LIMITS[data_coding]
    whole = b"".join(characters)
    if len(whole) <= single:
        return SmsParts(data_coding, 0, (whole,))
    chunks = [b""]
    for octets in characters:
        if len(chunks[-1]) + len(octets) > per_part:
            chunks.append(b"")
        chunks[-1] += octets
    if len(chunks) > MAX_PARTS:
        raise ValueError(f"the text needs {len(chunks)} parts, more than {MAX_PARTS}")
    total = len(chunks)
    return SmsParts(
        data_coding,
        ESM_CLASS_UDHI,
        tuple(bytes([5, 0, 3, reference, total, seq]) + c for seq, c in enumerate(chunks, 1)),
    )
