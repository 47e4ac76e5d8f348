"""The city's messages as CAP 1.2 and as Atom entries, so that other systems and people without
registration can follow them. Pure."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from hlasatel_composer.domain.atom import AtomEntry
from hlasatel_composer.domain.cap import CapAlert, CapArea, CapCircle, CapInfo, CapReference
from hlasatel_composer.domain.cap_alerts import LIBEREC_GEOCODES
from hlasatel_composer.domain.messages import ChannelContent, Content, Severity
from hlasatel_composer.domain.targeting import Target

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
    """A message as the export sees it."""

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
    headline = _headline(content)
    return CapInfo(
        language=language,
        categories=(_CAP_CATEGORY.get(message.category, "Other"),),
        event=headline,
        urgency=urgency,
        severity=severity,
        certainty=certainty,
        response_types=("AllClear",) if message.kind == "all-clear" else (),
        expires=message.expires_at,
        sender_name=sender_name,
        headline=headline,
        description=content.email.text if content.email else content.sms,
        areas=(_area(message.target, content),),
    )


def _headline(content: ChannelContent) -> str:
    if content.email is not None:
        return content.email.subject
    if content.push is not None:
        return content.push.title
    return (content.sms or "")[:100]


def _area(target: Target | None, content: ChannelContent) -> CapArea:
    """Polygons and circles as drawn; the whole city by its geocode; streets and houses by description."""
    if target is None or target.city:
        return CapArea(description="Liberec", geocodes=tuple(sorted(LIBEREC_GEOCODES)))
    streets = ", ".join(street.name for street in target.streets)
    return CapArea(
        description=streets or ", ".join(target.districts) or "Liberec",
        # CAP's rings are closed: the first point again at the end
        polygons=tuple((*polygon.points, polygon.points[0]) for polygon in target.polygons),
        circles=tuple(
            CapCircle(latitude=c.latitude, longitude=c.longitude, radius_km=c.radius_m / 1000)
            for c in target.circles
        ),
    )


def to_atom_entry(message: Published, *, link: str) -> AtomEntry:
    content = message.content.cs
    return AtomEntry(
        id=f"urn:uuid:{message.id}",
        title=_headline(content),
        updated=message.sent,
        published=message.sent,
        summary=content.sms or (content.push.body if content.push else _headline(content)),
        link=link,
        category=message.category,
    )
