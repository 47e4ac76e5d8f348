"""CAP 1.2 alerts (OASIS Common Alerting Protocol): read a document safely into plain values, write one.

Pure: the only I/O is reading the packaged OASIS schema, once. A document is accepted only when it is
well-formed without any DOCTYPE, is CAP 1.2 by its root, validates against the schema and maps cleanly;
every refusal is a CapRejected whose message names the problem, never the document's values.
"""

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from lxml import etree

from hlasatel_runtime.errors import SafeError

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_CAP_BYTES = 5_000_000

_NS = "{" + NAMESPACE + "}"
_DOCTYPE_REFUSED = "a DOCTYPE is not accepted in CAP: entity declarations and external DTDs are refused"


class CapRejected(SafeError):
    """The document is not CAP 1.2 we can accept; the message names why (never echoing personal data)."""


@dataclass(frozen=True)
class CapReference:
    """One item of <references>: the earlier message this one updates or cancels."""

    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True)
class CapCircle:
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True)
class CapArea:
    """Polygon rings are (latitude, longitude) points in CAP's order, the first point repeated last."""

    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[CapCircle, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CapInfo:
    """One <info> block: the alert in one language; the pairs are (valueName, value)."""

    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    response_types: tuple[str, ...] = ()
    event_codes: tuple[tuple[str, str], ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[CapReference, ...] = ()
    infos: tuple[CapInfo, ...] = ()
    note: str | None = None
    incidents: str | None = None


def parse_cap(data: bytes, *, max_bytes: int = MAX_CAP_BYTES) -> CapAlert:
    """The alert a CAP 1.2 document states, or CapRejected saying why it cannot be accepted."""
    if len(data) > max_bytes:
        raise CapRejected(f"the document is {len(data)} bytes; at most {max_bytes} are accepted")
    root = _well_formed(data)
    if root.tag != _NS + "alert":
        raise CapRejected(f"not CAP 1.2: the root is {root.tag}")
    problem = _schema_problem(root)
    if problem is not None:
        raise CapRejected(f"CAP 1.2 schema: {problem}")
    return _alert(root)


def _parser() -> Any:
    # lxml's parsers are not safe to share between threads, and building one is cheap
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@functools.cache
def _schema() -> Any:
    xsd = resources.files("hlasatel_composer.domain").joinpath("cap-v1.2.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd, _parser()))


# what may come before a DOCTYPE: the XML declaration, processing instructions, comments, white space
_BEFORE_DOCTYPE = re.compile(rb"(?:[^<]+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
# an encoding error quotes the document's bytes after "Bytes:", and those may be anybody's text
_CONTENT_BYTES = re.compile(r"\s*Bytes:.*", re.DOTALL)
_POSITION = re.compile(r", line \d+, column \d+$")


def _well_formed(data: bytes) -> Any:
    # Refused before parsing so that nested entities (billion laughs) are never even declared; the check
    # on the parsed tree catches what this byte scan cannot see, such as a UTF-16 document.
    prolog_end = _BEFORE_DOCTYPE.match(data)
    if data.startswith((b"<!DOCTYPE", b"<!ENTITY"), prolog_end.end() if prolog_end else 0):
        raise CapRejected(_DOCTYPE_REFUSED)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        reason = _POSITION.sub("", _CONTENT_BYTES.sub("", str(exc.msg)))
        line, column = exc.position
        raise CapRejected(f"not well-formed XML: line {line}, column {column}: {reason}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CapRejected(_DOCTYPE_REFUSED)
    return root


_NAMESPACE_NOISE = re.compile(r"\{[^}]*\}")
# lxml quotes the offending value right after "Element 'x': " or after "The value "
_QUOTED_VALUE = re.compile(r"(?:^|The value )'.*?' (?=is not )", re.DOTALL)


def _schema_problem(root: Any) -> str | None:
    """The first schema error as 'line N: message', element names without namespaces, values withheld."""
    try:
        _schema().assertValid(root.getroottree())
    except etree.DocumentInvalid as exc:
        error = exc.error_log[0]
        element, separator, detail = _NAMESPACE_NOISE.sub("", str(error.message)).partition("': ")
        return f"line {error.line}: {element}{separator}{_QUOTED_VALUE.sub('the value ', detail)}"
    return None


def _children(parent: Any, name: str) -> list[Any]:
    return list(parent.iterchildren(_NS + name))


def _text(element: Any) -> str:
    # one text node: the parser drops comments and processing instructions, the schema child elements
    return str(element.text or "")


def _required(parent: Any, name: str) -> str:
    return _text(parent.find(_NS + name))


def _optional(parent: Any, name: str) -> str | None:
    """Absent and empty alike are None: ČHMÚ writes <description></description> for 'no description'."""
    child = parent.find(_NS + name)
    return None if child is None else _text(child) or None


def _pairs(parent: Any, name: str) -> tuple[tuple[str, str], ...]:
    """(valueName, value) of each such child; the schema has made each exactly those two, in that order."""
    return tuple((_text(pair[0]), _text(pair[1])) for pair in _children(parent, name))


def _time(text: str, where: str) -> datetime:
    # the schema's pattern still lets through what xs:dateTime allows and Python does not, such as T24:00:00
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise CapRejected(f"{where} is not a date and time that can be read") from None


def _optional_time(parent: Any, name: str, where: str) -> datetime | None:
    text = _optional(parent, name)
    return None if text is None else _time(text, f"{where}/{name}")


_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def _decimal(text: str, where: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise CapRejected(f"{where} holds something other than decimal numbers")
    return float(text)


def _point(text: str, where: str) -> tuple[float, float]:
    latitude_text, _, longitude_text = text.partition(",")
    latitude, longitude = _decimal(latitude_text, where), _decimal(longitude_text, where)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise CapRejected(f"{where} has a point outside WGS 84 latitude -90..90, longitude -180..180")
    return latitude, longitude


def _polygon(text: str, where: str) -> tuple[tuple[float, float], ...]:
    ring = tuple(_point(pair, where) for pair in text.split())
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise CapRejected(f"{where} is not a closed ring of at least 4 'latitude,longitude' points")
    return ring


def _circle(text: str, where: str) -> CapCircle:
    parts = text.split()
    if len(parts) != 2:
        raise CapRejected(f"{where} is not 'latitude,longitude radius'")
    latitude, longitude = _point(parts[0], where)
    radius_km = _decimal(parts[1], where)
    if radius_km < 0:
        raise CapRejected(f"{where} has a negative radius")
    return CapCircle(latitude=latitude, longitude=longitude, radius_km=radius_km)


def _reference(text: str) -> CapReference:
    parts = text.split(",")
    if len(parts) != 3 or not all(parts):
        raise CapRejected("references: an item is not 'sender,identifier,sent'")
    sender, identifier, sent = parts
    return CapReference(sender=sender, identifier=identifier, sent=_time(sent, "references"))


def _area(element: Any, where: str) -> CapArea:
    polygons = _children(element, "polygon")
    circles = _children(element, "circle")
    return CapArea(
        description=_required(element, "areaDesc"),
        polygons=tuple(_polygon(_text(p), f"{where}/polygon[{n}]") for n, p in enumerate(polygons, 1)),
        circles=tuple(_circle(_text(c), f"{where}/circle[{n}]") for n, c in enumerate(circles, 1)),
        geocodes=_pairs(element, "geocode"),
    )


def _info(element: Any, where: str) -> CapInfo:
    areas = _children(element, "area")
    return CapInfo(
        # xs:language and xs:anyURI collapse whitespace, and an empty <language/> takes the default
        language=(_optional(element, "language") or "").strip() or "en-US",
        categories=tuple(_text(category) for category in _children(element, "category")),
        event=_required(element, "event"),
        urgency=_required(element, "urgency"),
        severity=_required(element, "severity"),
        certainty=_required(element, "certainty"),
        response_types=tuple(_text(response) for response in _children(element, "responseType")),
        event_codes=_pairs(element, "eventCode"),
        effective=_optional_time(element, "effective", where),
        onset=_optional_time(element, "onset", where),
        expires=_optional_time(element, "expires", where),
        sender_name=_optional(element, "senderName"),
        headline=_optional(element, "headline"),
        description=_optional(element, "description"),
        instruction=_optional(element, "instruction"),
        web=(_optional(element, "web") or "").strip() or None,
        contact=_optional(element, "contact"),
        parameters=_pairs(element, "parameter"),
        areas=tuple(_area(area, f"{where}/area[{n}]") for n, area in enumerate(areas, 1)),
    )


def _alert(root: Any) -> CapAlert:
    references = _optional(root, "references") or ""
    return CapAlert(
        identifier=_required(root, "identifier"),
        sender=_required(root, "sender"),
        sent=_time(_required(root, "sent"), "sent"),
        status=_required(root, "status"),
        msg_type=_required(root, "msgType"),
        scope=_required(root, "scope"),
        references=tuple(_reference(item) for item in references.split()),
        infos=tuple(_info(info, f"info[{n}]") for n, info in enumerate(_children(root, "info"), 1)),
        note=_optional(root, "note"),
        incidents=_optional(root, "incidents"),
    )


def render_cap(alert: CapAlert) -> bytes:
    """The alert as a UTF-8 CAP 1.2 document; ValueError when it would not validate against the schema."""
    root = etree.Element(_NS + "alert", nsmap={None: NAMESPACE})
    for name, text in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", _cap_time(alert.sent)),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("scope", alert.scope),
    ):
        _add(root, name, text)
    _add_optional(root, "note", alert.note)
    _add_optional(root, "references", " ".join(_reference_text(r) for r in alert.references))
    _add_optional(root, "incidents", alert.incidents)
    for info in alert.infos:
        _add_info(root, info)
    problem = _schema_problem(root)
    if problem is not None:
        raise ValueError(f"the alert is not valid CAP 1.2: {problem}")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _cap_time(moment: datetime) -> str:
    """CAP's one form: seconds and a numeric offset, never fractions or 'Z' (the schema's pattern)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("CAP times carry an offset, and this datetime has none")
    if offset % timedelta(minutes=1):
        raise ValueError("CAP time offsets are whole minutes")
    written = moment.replace(microsecond=0).isoformat()
    # CAP 1.2, 3.3.2: "The timezone for UTC MUST be represented as -00:00"
    return written[:-6] + "-00:00" if offset == timedelta(0) else written


def _number(value: float) -> str:
    # repr is the shortest exact form, and Decimal spells it without the exponent CAP readers do not expect
    return format(Decimal(repr(value)), "f")


def _point_text(latitude: float, longitude: float) -> str:
    return f"{_number(latitude)},{_number(longitude)}"


def _reference_text(reference: CapReference) -> str:
    return f"{reference.sender},{reference.identifier},{_cap_time(reference.sent)}"


def _add(parent: Any, name: str, text: str) -> Any:
    child = etree.SubElement(parent, _NS + name)
    child.text = text
    return child


def _add_optional(parent: Any, name: str, text: str | None) -> None:
    if text:
        _add(parent, name, text)


def _add_pairs(parent: Any, name: str, pairs: tuple[tuple[str, str], ...]) -> None:
    for value_name, value in pairs:
        pair = etree.SubElement(parent, _NS + name)
        _add(pair, "valueName", value_name)
        _add(pair, "value", value)


def _add_info(root: Any, info: CapInfo) -> None:
    element = etree.SubElement(root, _NS + "info")
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category)
    _add(element, "event", info.event)
    for response_type in info.response_types:
        _add(element, "responseType", response_type)
    for name, text in (("urgency", info.urgency), ("severity", info.severity), ("certainty", info.certainty)):
        _add(element, name, text)
    _add_pairs(element, "eventCode", info.event_codes)
    for name, moment in (("effective", info.effective), ("onset", info.onset), ("expires", info.expires)):
        if moment is not None:
            _add(element, name, _cap_time(moment))
    for name, optional in (
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
    ):
        _add_optional(element, name, optional)
    _add_pairs(element, "parameter", info.parameters)
    for area in info.areas:
        _add_area(element, area)


def _add_area(info: Any, area: CapArea) -> None:
    element = etree.SubElement(info, _NS + "area")
    _add(element, "areaDesc", area.description)
    for ring in area.polygons:
        _add(element, "polygon", " ".join(_point_text(latitude, longitude) for latitude, longitude in ring))
    for circle in area.circles:
        _add(
            element, "circle", f"{_point_text(circle.latitude, circle.longitude)} {_number(circle.radius_km)}"
        )
    _add_pairs(element, "geocode", area.geocodes)
