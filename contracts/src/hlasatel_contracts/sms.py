"""How long an SMS is on the wire, and how to make Czech text fit the cheaper GSM-7 alphabet.

Only the GSM 03.38 default alphabet and its extension table are used: gateways in the Twilio shape do
not send national language shift tables, so any other character makes the whole text UCS-2.
"""

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsEncoding",
    "SmsLength",
    "measure",
    "transliterate",
]

# 3GPP TS 23.038 section 6.2.1: the character at index n is septet n. 0x1B is the escape to the extension
# table, not a character of its own.
GSM7_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_ESCAPE: Final = 0x1B

# 3GPP TS 23.038 section 6.2.1.1: septet after the escape -> character; each costs two septets.
GSM7_EXTENSION: Final[Mapping[int, str]] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASIC: Final = frozenset(GSM7_BASIC[:_ESCAPE] + GSM7_BASIC[_ESCAPE + 1 :])
_EXTENDED: Final = frozenset(GSM7_EXTENSION.values())

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67

# Typography and letters that NFD does not decompose (strokes, ligatures) -> their GSM-7 look-alike.
_LOOKALIKES: Final[Mapping[str, str]] = {
    **dict.fromkeys("„“”‟«»", '"'),
    **dict.fromkeys("‚‘’‛‹›`´", "'"),
    **dict.fromkeys("‐‑‒–—―−•", "-"),
    **dict.fromkeys("\u00ad\u200b\u2060\ufeff", ""),  # soft hyphen and zero-width spaces, pasted from editors
    **dict.fromkeys("\u2028\u2029", "\n"),
    "\t": " ",
    "…": "...",
    "×": "x",
    **dict(zip("łŁđĐðÐħĦŧŦıŀĿſ", "lLdDdDhHtTilLs", strict=True)),
    "þ": "th",
    "Þ": "Th",
    "œ": "oe",
    "Œ": "OE",
    "ĳ": "ij",
    "Ĳ": "IJ",
}


class SmsEncoding(StrEnum):
    GSM_7 = "GSM-7"
    UCS_2 = "UCS-2"


@dataclass(frozen=True)
class SmsLength:
    """A text's size on the wire; `non_gsm` lists, once each and in order, the characters forcing UCS-2."""

    characters: int
    encoding: SmsEncoding
    units: int
    segments: int
    per_segment: int
    non_gsm: tuple[str, ...] = ()


def _is_gsm7(text: str) -> bool:
    return all(c in _BASIC or c in _EXTENDED for c in text)


def _count_segments(costs: list[int], *, single: int, part: int) -> tuple[int, int]:
    """Segments and their capacity; in a multipart text no character is split between two segments."""
    total = sum(costs)
    if total == 0:
        return 0, single
    if total <= single:
        return 1, single
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments, part


def measure(text: str) -> SmsLength:
    """How many characters, septets or UTF-16 units and segments `text` takes; empty text is 0 segments."""
    non_gsm = tuple(dict.fromkeys(c for c in text if c not in _BASIC and c not in _EXTENDED))
    if not non_gsm:
        encoding, single, part = SmsEncoding.GSM_7, _GSM7_SINGLE, _GSM7_PART
        costs = [2 if c in _EXTENDED else 1 for c in text]
    else:
        encoding, single, part = SmsEncoding.UCS_2, _UCS2_SINGLE, _UCS2_PART
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    segments, per_segment = _count_segments(costs, single=single, part=part)
    return SmsLength(
        characters=len(text),
        encoding=encoding,
        units=sum(costs),
        segments=segments,
        per_segment=per_segment,
        non_gsm=non_gsm,
    )


def _clusters(text: str) -> Iterator[str]:
    """Each character with the combining marks that follow it."""
    start = 0
    for end in range(1, len(text) + 1):
        if end == len(text) or not unicodedata.combining(text[end]):
            yield text[start:end]
            start = end


def _without_marks(cluster: str) -> str | None:
    """`cluster` with as few diacritics dropped as it takes to be GSM-7 (ǘ -> ü, ř -> r), or None."""
    decomposed = unicodedata.normalize("NFD", cluster)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    marks = "".join(c for c in decomposed if unicodedata.combining(c))
    for kept in range(len(marks) - 1, -1, -1):
        candidate = unicodedata.normalize("NFC", letters + marks[:kept])
        if _is_gsm7(candidate):
            return candidate
    return None


def _transliterate_cluster(cluster: str) -> str:
    if _is_gsm7(cluster):
        return cluster
    if cluster in _LOOKALIKES:
        return _LOOKALIKES[cluster]
    if unicodedata.category(cluster[0]) == "Zs" and len(cluster) == 1:
        return " "
    without_marks = _without_marks(cluster)
    return cluster if without_marks is None else without_marks


def transliterate(text: str) -> str:
    """`text` in GSM-7 where it can be without changing its meaning; other characters stay as they are.

    Letters keep the diacritics GSM-7 has (é, ä, ü) and lose the others (ř -> r, ł -> l); typographic
    quotes, dashes, the ellipsis and Unicode spaces become their plain look-alikes. The degree sign, ÷,
    Cyrillic, emoji and the like are kept, so the text stays UCS-2 rather than mean something else, and
    `measure` names them in `non_gsm`.
    """
    return "".join(_transliterate_cluster(c) for c in _clusters(unicodedata.normalize("NFC", text)))
