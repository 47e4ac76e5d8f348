"""Atom 1.0 feeds (RFC 4287) of published alerts, each entry linking its CAP document. Pure, no I/O."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"

_NS = "{" + ATOM_NAMESPACE + "}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class AtomEntry:
    """One alert in the feed; `link` is its CAP document."""

    id: str
    title: str
    updated: datetime
    summary: str
    link: str
    category: str | None = None
    published: datetime | None = None


def atom_feed(
    *,
    id: str,
    title: str,
    self_link: str,
    updated: datetime,
    author: str,
    entries: Sequence[AtomEntry],
    lang: str | None = None,
) -> bytes:
    """A UTF-8 Atom feed with the entries in the order given; ValueError for a datetime without offset."""
    feed = etree.Element(_NS + "feed", nsmap={None: ATOM_NAMESPACE})
    if lang:
        feed.set(_XML_LANG, lang)
    _add(feed, "id", id)
    _add(feed, "title", title)
    _add(feed, "updated", _rfc3339(updated))
    etree.SubElement(feed, _NS + "link", rel="self", type="application/atom+xml", href=self_link)
    _add(etree.SubElement(feed, _NS + "author"), "name", author)
    for entry in entries:
        _add_entry(feed, entry)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _rfc3339(moment: datetime) -> str:
    """'2024-05-01T08:30:00+02:00', or '...Z' in UTC; whole seconds."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("an Atom timestamp needs an offset, and this datetime has none")
    if offset % timedelta(minutes=1):
        # RFC 3339 offsets have no seconds field: such a (historical) zone is written as UTC instead
        moment = moment.astimezone(UTC)
    text = moment.replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _add(parent: Any, name: str, text: str) -> None:
    etree.SubElement(parent, _NS + name).text = text


def _add_entry(feed: Any, entry: AtomEntry) -> None:
    element = etree.SubElement(feed, _NS + "entry")
    _add(element, "id", entry.id)
    _add(element, "title", entry.title)
    _add(element, "updated", _rfc3339(entry.updated))
    if entry.published is not None:
        _add(element, "published", _rfc3339(entry.published))
    if entry.category:
        etree.SubElement(element, _NS + "category", term=entry.category)
    _add(element, "summary", entry.summary)
    etree.SubElement(element, _NS + "link", rel="alternate", type=CAP_MEDIA_TYPE, href=entry.link)
