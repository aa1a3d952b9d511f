"""SMS text: [Code] templates, the signature prefix and GSM-7 / UCS-2 segment counts."""

import pytest

from domain.sms_text import compose, render_code, segment_count


def test_code_placeholder_is_replaced_plainly():
    assert (
        render_code("Your code is [Code]. {otp} stays", "123456")
        == "Your code is 123456. {otp} stays"
    )


def test_signature_prefix_goes_before_the_body():
    assert (
        compose("Your code is 1", "【Cloud IDaaS Platform】")
        == "【Cloud IDaaS Platform】Your code is 1"
    )
    assert compose("Your code is 1", None) == "Your code is 1"


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),
        ("你" * 70, "UCS-2", 1),
        ("你" * 71, "UCS-2", 2),
        ("你" * 134, "UCS-2", 2),
        ("你" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # astral characters take two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
        ("", "GSM-7", 1),
    ],
)
def test_segment_counts(text, encoding, segments):
    counted = segment_count(text)
    assert (counted.encoding, counted.segments) == (encoding, segments)
