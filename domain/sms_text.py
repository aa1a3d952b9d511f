"""SMS text composition and GSM-7 / UCS-2 segment counting."""

from dataclasses import dataclass

CODE_PLACEHOLDER = "[Code]"
DEFAULT_TEXT_MESSAGE = "Your verification code is [Code]"

# GSM 03.38 default alphabet and its extension table (extension characters take two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segmentation:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def segment_count(text: str) -> Segmentation:
    """How many SMS parts a text takes: 160/153 septets for GSM-7, 70/67 units for UCS-2."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return Segmentation(encoding=encoding, units=units, segments=segments)


def compose(body: str, signature: str | None) -> str:
    """The text as sent: the gateway's signature prefix (IDaaS "SMS title") before the body."""
    return f"{signature}{body}" if signature else body


def render_code(template: str, code: str) -> str:
    """Put the code into a ``[Code]`` template (plain replacement, no format strings)."""
    return template.replace(CODE_PLACEHOLDER, code)
