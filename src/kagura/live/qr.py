"""A QR code drawn in the terminal, for the login commands: a phone opens the URL."""

from __future__ import annotations

import io

import segno


def qr_text(url: str) -> str:
    """The QR code of `url` in Unicode half blocks, dark on light as phones expect."""
    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()
