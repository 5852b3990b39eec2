"""What counts as heard after an interrupt: never more than was sent."""

from __future__ import annotations

import pytest

from kagura.conversation.text import heard_part


@pytest.mark.parametrize(
    ("heard", "sent", "kept"),
    [
        ("Hello there, my", "[joy] Hello there, my friend.", "[joy] Hello there, my"),
        ("Hello there,  my friend. Extra!", "Hello there, my friend.", "Hello there, my friend."),
        ("x" * 32000, "Hello", ""),
        ("你好，世", "[joy]你好，世界。", "[joy]你好，世"),
        ("", "Hello", ""),
    ],
)
def test_heard_part(heard: str, sent: str, kept: str) -> None:
    assert heard_part(heard, sent) == kept
