"""SSML for Azure Speech: the text a viewer wrote, safely inside the markup.

The text is a reply to live chat, so it may hold anything a viewer typed: `<`, `&`, quotes,
`]]>`, control characters. Characters XML 1.0 cannot carry at all are replaced by spaces
(an escaped one is still ill-formed); the rest are escaped, so the document stays
well-formed and the markup is never the viewer's.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

SYNTHESIS_NS = "http://www.w3.org/2001/10/synthesis"
MSTTS_NS = "https://www.w3.org/2001/mstts"  # as Microsoft's SSML reference writes it
# Not allowed anywhere in an XML 1.0 document, not even as a character reference.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LANG = re.compile(r"^([a-z]{2,3}-[A-Za-z]{2,4})-")


def xml_text(text: str) -> str:
    """`text` as XML character data."""
    return escape(_NOT_XML.sub(" ", text))


def voice_language(voice: str) -> str:
    """The language of a voice name (zh-CN of zh-CN-XiaoxiaoNeural): the xml:lang of speak."""
    match = _LANG.match(voice)
    return match.group(1) if match else "en-US"


def percent(change: float) -> str:
    """A relative change as SSML writes it: "+20%", "-5%", "+0%"."""
    return f"{round(change):+d}%"


def azure_ssml(text: str, *, voice: str, style: str = "", rate: float = 1.0, pitch: int = 0) -> str:
    """One `speak` document: the voice, its style if any, the prosody, the escaped text."""
    body = (
        f"<prosody rate={quoteattr(percent((rate - 1) * 100))} "
        f"pitch={quoteattr(percent(pitch))}>{xml_text(text)}</prosody>"
    )
    if style:
        body = f"<mstts:express-as style={quoteattr(style)}>{body}</mstts:express-as>"
    return (
        f"<speak version='1.0' xmlns='{SYNTHESIS_NS}' xmlns:mstts='{MSTTS_NS}' "
        f"xml:lang={quoteattr(voice_language(voice))}>"
        f"<voice name={quoteattr(voice)}>{body}</voice></speak>"
    )
