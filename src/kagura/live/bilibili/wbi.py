"""WBI request signing, which Bilibili's `getDanmuInfo` requires (code -352 without it).

The keys are the file-name stems of two image URLs that `nav` returns (`wbi_img.img_url`
and `sub_url`); they rotate, so callers refresh them about every 12 hours and whenever a
signed call is refused with -352.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode

# The positions in `img_key + sub_key` that make up the 32-character mixin key, in order.
MIXIN_ORDER = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35,
    27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13,
)  # fmt: skip
STRIPPED = str.maketrans("", "", "!'()*")


def key_of(url: str) -> str:
    """`https://i0.hdslb.com/bfs/wbi/7cd0849413384.png` → `7cd0849413384`."""
    return url.rpartition("/")[2].partition(".")[0]


def mixin_key(img_url: str, sub_url: str) -> str:
    raw = key_of(img_url) + key_of(sub_url)
    return "".join(raw[i] for i in MIXIN_ORDER if i < len(raw))


def sign(params: Mapping[str, str | int], key: str, now: float | None = None) -> dict[str, str]:
    """`params` with `wts` (unix seconds) and `w_rid` (the signature) added."""
    signed = {name: str(value) for name, value in params.items()}
    signed["wts"] = str(int(time.time() if now is None else now))
    ordered = {name: signed[name].translate(STRIPPED) for name in sorted(signed)}
    # Encoded like the site's encodeURIComponent (a space is %20, not +).
    query = urlencode(ordered, quote_via=quote)
    signed["w_rid"] = hashlib.md5((query + key).encode()).hexdigest()
    return signed
