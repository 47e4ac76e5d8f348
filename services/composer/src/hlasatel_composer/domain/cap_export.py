"""The city's messages as CAP 1.2 and as Atom entries, so that other systems and people without
registration can follow them. Pure."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from hlasatel_composer.domain.atom import AtomEntry
from hlasatel_composer.domain.cap import CapAlert, CapArea, CapCircle, CapInfo, CapReference
from hlasatel_composer.domain.cap_alerts import LIBEREC_GEOCODES
from hlasatel_composer.domain.geometry import covering_rings
from hlasatel_composer.domain.messages import ChannelContent, Content, Severity
from hlasatel_composer.domain.register import street_names
from hlasatel_composer.domain.targeting import PointFacts, Target
from hlasatel_composer.domain.template_defaults import category_name, title
from hlasatel_contracts import Language

_CAP_CATEGORY = {
    "weather": "Met",
    "traffic": "Transport",
    "safety": "Safety",
    "water": "Infra",
    "electricity": "Infra",
    "gas": "Infra",
    "heating": "Infra",
    "waste": "Env",
}
# (urgency, severity, certainty) of a message that did not come as CAP
_TERMS = {
    Severity.EMERGENCY: ("Immediate", "Extreme", "Observed"),
    Severity.WARNING: ("Expected", "Moderate", "Likely"),
    Severity.INFO: ("Future", "Minor", "Likely"),
}
_MSG_TYPES = {"update": "Update", "released": "Update", "all-clear": "Update", "cancel": "Cancel"}
_LANGUAGE_TAGS = {"cs": "cs-CZ", "en": "en-GB", "de": "de-DE", "pl": "pl-PL", "uk": "uk-UA"}


@dataclass(frozen=True)
class Published:
    """A message as the export sees it. A follow-up (an all-clear, a cancel) has its original's target and
    area: it concerns the same houses, and a reader places it where the original was."""

    id: UUID
    sent: datetime
    kind: str | None
    severity: Severity
    category: str
    content: Content
    target: Target | None
    expires_at: datetime | None
    cap: dict[str, Any] | None
    previous: "Published | None" = None
    onset: datetime | None = None
    # the area its address points make (`drawn_area`), where its target draws none itself
    area: dict[str, Any] | None = None


def drawn_area(target: Target, points: list[PointFacts]) -> dict[str, Any] | None:
    """What a map is given of a target that is not the whole city and draws no area itself (streets,
    houses, address points, districts): its name and polygons around its houses. None where the target
    itself says it (the whole city, polygons and circles alone)."""
    only_drawn = not (target.districts or target.streets or target.address_points or target.city)
    located = [
        (p.latitude, p.longitude) for p in points if p.latitude is not None and p.longitude is not None
    ]
    if target.is_whole_city() or only_drawn or not located:
        return None
    named = [street.name for street in target.streets] or list(target.districts)
    shown = list(dict.fromkeys(named or street_names(points)))
    description = ", ".join(shown[:6]) + (", …" if len(shown) > 6 else "")
    return {"description": description or "Liberec", "polygons": covering_rings(located)}


def identifier(message_id: UUID) -> str:
    return f"hlasatel.liberec.{message_id}"


def to_cap(message: Published, *, sender: str, sender_name: str) -> CapAlert:
    """The message as a CAP alert: an info block per language, the area as the target drew it."""
    references = (
        (CapReference(sender=sender, identifier=identifier(message.previous.id), sent=message.previous.sent),)
        if message.previous is not None
        else ()
    )
    languages = {"cs": message.content.cs} | {
        language: own
        for language in ("en", "de", "pl", "uk")
        if (own := getattr(message.content, language)) is not None
    }
    return CapAlert(
        identifier=identifier(message.id),
        sender=sender,
        sent=message.sent,
        status="Actual",
        msg_type=_MSG_TYPES.get(message.kind or "", "Alert"),
        scope="Public",
        references=references,
        infos=tuple(
            _info(message, _LANGUAGE_TAGS[language], content, sender_name)
            for language, content in languages.items()
        ),
    )


def _info(message: Published, language: str, content: ChannelContent, sender_name: str) -> CapInfo:
    urgency, severity, certainty = _TERMS[message.severity]
    if message.cap is not None:
        urgency, severity, certainty = (
            message.cap["urgency"],
            message.cap["severity"],
            message.cap["certainty"],
        )
    return CapInfo(
        language=language,
        categories=(_CAP_CATEGORY.get(message.category, "Other"),),
        event=_event(message, language),
        urgency=urgency,
        severity=severity,
        certainty=certainty,
        response_types=("AllClear",) if message.kind == "all-clear" else (),
        onset=message.onset,
        expires=message.expires_at,
        sender_name=sender_name,
        headline=headline(content),
        description=content.email.text if content.email else content.sms,
        areas=(_area(message),),
    )


def _event(message: Published, language_tag: str) -> str:
    """What the message is about, not its headline: the warning's own event, an outage's name, or the
    category the city wrote it under."""
    language = Language(language_tag.split("-")[0])
    events = (message.cap or {}).get("events") or {}
    if event := events.get(language.value) or events.get(Language.CS.value):
        return str(event)
    if message.kind is not None:
        return title(language, message.category)
    return category_name(language, message.category)


def headline(content: ChannelContent) -> str:
    """What a message is called in a list: its e-mail subject, push title, or the start of its SMS."""
    if content.email is not None:
        return content.email.subject
    if content.push is not None:
        return content.push.title
    return (content.sms or "")[:100]


def _area(message: Published) -> CapArea:
    """The whole city by its geocode; polygons and circles as drawn; anything else by the polygons around
    its houses that were made when its target was resolved."""
    target = message.target
    if target is None or target.is_whole_city():
        return CapArea(description="Liberec", geocodes=tuple(sorted(LIBEREC_GEOCODES)))
    drawn = tuple((*polygon.points, polygon.points[0]) for polygon in target.polygons)
    circles = tuple(
        CapCircle(latitude=c.latitude, longitude=c.longitude, radius_km=c.radius_m / 1000)
        for c in target.circles
    )
    if message.area is not None:
        houses = tuple(tuple((lat, lon) for lat, lon in ring) for ring in message.area["polygons"])
        return CapArea(description=message.area["description"], polygons=drawn + houses, circles=circles)
    streets = ", ".join(street.name for street in target.streets)
    return CapArea(
        description=streets or ", ".join(target.districts) or "Liberec",
        # CAP's rings are closed: the first point again at the end
        polygons=drawn,
        circles=circles,
    )


def to_atom_entry(message: Published, *, link: str) -> AtomEntry:
    content = message.content.cs
    return AtomEntry(
        id=f"urn:uuid:{message.id}",
        title=headline(content),
        updated=message.sent,
        published=message.sent,
        summary=content.sms or (content.push.body if content.push else headline(content)),
        link=link,
        category=message.category,
    )
