"""Log hygiene: secrets redacted however they are spelled, client mistakes rate-limited."""

from __future__ import annotations

import logging

import pytest

from kagura.logs import RateLimitedLog, RedactSecrets, redact


@pytest.mark.parametrize(
    "line",
    [
        "GET /proxy-ws?token=SECRET HTTP/1.1",
        '"WebSocket /proxy-ws?tok%65n=SECRET" [accepted]',
        "/client-ws?role=page&%54OKEN=SECRET&lang=zh",
        "https://www.googleapis.com/youtube/v3/videos?id=abc&key=SECRET",
        "/x?a=1;token=SECRET",
        "/x?access%5Ftoken=SECRET#frag",
    ],
)
def test_secret_parameters_are_redacted_in_any_spelling(line: str) -> None:
    cleaned = redact(line)
    assert "SECRET" not in cleaned
    assert "***" in cleaned


def test_other_parameters_are_kept() -> None:
    assert redact("/proxy-ws?role=page&lang=zh") == "/proxy-ws?role=page&lang=zh"


def test_the_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "%s - %s", ("1.2.3.4", "/p?token=S"), None)
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "1.2.3.4 - /p?token=***"


def test_rate_limited_log_says_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limited = RateLimitedLog(
        logging.getLogger("kagura.test"), burst=2, per_s=10, clock=lambda: now[0]
    )
    with caplog.at_level(logging.WARNING, "kagura.test"):
        logged = [limited.warning("bad frame %d", n) for n in range(5)]
        now[0] = 11.0
        limited.warning("bad frame %d", 5)
    assert logged == [True, True, False, False, False]
    assert [r.getMessage() for r in caplog.records] == [
        "bad frame 0",
        "bad frame 1",
        "bad frame 5 (3 similar lines held back)",
    ]
