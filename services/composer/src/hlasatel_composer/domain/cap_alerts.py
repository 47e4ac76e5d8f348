"""What a CAP alert means for the city: which of its warnings concern Liberec, where, how severe, in which
category, and what the templates are told of them. Pure."""

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hlasatel_composer.domain.cap import CapAlert, CapInfo, CapRejected
from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.targeting import Circle, Polygon, Target
from hlasatel_composer.domain.templates import Facts, Hazard, period
from hlasatel_contracts import Language
from hlasatel_runtime.errors import describe

# ORP Liberec in the Czech warning services' code lists (ČHMÚ's CISORP)
LIBEREC_GEOCODES = frozenset({("CISORP", "5105")})

_CATEGORIES = {"Met": "weather", "Env": "weather", "Transport": "traffic"}
_LANGUAGES = {language.value: language for language in Language}


def language_of(cap_language: str) -> Language | None:
    """'cs', 'cs-CZ' → Czech; 'en-GB', 'en-US' → English; a language the city does not write → None."""
    return _LANGUAGES.get(cap_language.split("-")[0].lower())


def warns(info: CapInfo) -> bool:
    """ČHMÚ sends a 'no warning' block for every phenomenon with certainty Unlikely: those say nothing."""
    return info.certainty != "Unlikely"


def severity_of(infos: list[CapInfo]) -> Severity:
    """Extreme is an emergency (it reaches everyone, in quiet hours too); Severe and Moderate warn."""
    levels = {info.severity for info in infos}
    if "Extreme" in levels:
        return Severity.EMERGENCY
    return Severity.WARNING if levels & {"Severe", "Moderate"} else Severity.INFO


def category_of(infos: list[CapInfo], *, own: frozenset[str] | None = None) -> str:
    """Weather for Met and Env, traffic for Transport; Infra (utilities) the sender's own category when its
    key is scoped to exactly one (a water company's key: water); safety for anything else CAP knows."""
    infra = next(iter(own)) if own is not None and len(own) == 1 else "safety"
    found = [
        infra if category == "Infra" else _CATEGORIES.get(category, "safety")
        for info in infos
        for category in info.categories
    ]
    return found[0] if found else "safety"


# what an info block may leave to the others of its alert: a warning service often gives them once
_SHARED = ("sender_name", "onset", "effective", "expires", "web", "contact")


def inherited(infos: Sequence[CapInfo]) -> list[CapInfo]:
    """The blocks of one alert with what one leaves out taken from another that gives it (the first that
    does): the English block of a Czech water company's alert names the company and its real times, not the
    sender's address and the moment the document was sent."""
    given: dict[str, Any] = {
        name: next((v for info in infos if (v := getattr(info, name)) is not None), None) for name in _SHARED
    }
    return [
        dataclasses.replace(
            info, **{name: value for name, value in given.items() if getattr(info, name) is None}
        )
        for info in infos
    ]


def concerned(
    infos: list[CapInfo], geocodes: frozenset[tuple[str, str]]
) -> tuple[list[CapInfo], Target] | None:
    """The warnings for the city and where: those naming Liberec by geocode go to the whole city; failing
    those, the ones with polygons or circles go to the address points inside them."""
    named = [info for info in infos if any(code in geocodes for area in info.areas for code in area.geocodes)]
    if named:
        return named, Target(city=True)
    areas = [area for info in infos for area in info.areas]
    polygons = [Polygon(points=list(ring[:-1])) for area in areas for ring in area.polygons if len(ring) > 3]
    circles = [
        Circle(latitude=c.latitude, longitude=c.longitude, radius_m=min(c.radius_km * 1000, 100_000))
        for area in areas
        for c in area.circles
        if c.radius_km > 0
    ]
    if not polygons and not circles:
        return None
    shaped = [info for info in infos if any(area.polygons or area.circles for area in info.areas)]
    return shaped, Target(polygons=polygons, circles=circles)


@dataclass(frozen=True)
class Plan:
    """A CAP alert as a message of the city: its warnings, target, severity, category and facts."""

    infos: tuple[CapInfo, ...]
    target: Target
    severity: Severity
    category: str
    expires_at: datetime | None
    facts: dict[Language, Facts]
    onset: datetime | None = None

    def digest(self) -> str:
        """Unchanged warnings in a new issue of a feed have the same digest: nobody is told twice."""
        canonical = json.dumps(facts_json(self.facts), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256((canonical + self.target.model_dump_json()).encode()).hexdigest()


def plan(
    alert: CapAlert,
    *,
    now: datetime,
    geocodes: frozenset[tuple[str, str]] = LIBEREC_GEOCODES,
    own_categories: frozenset[str] | None = None,
) -> Plan | str:
    """The message to make of a CAP alert, or why there is none."""
    if alert.status != "Actual" or alert.scope != "Public":
        return f"status {alert.status}, scope {alert.scope}: only Actual, Public alerts reach citizens"
    relevant = [info for info in inherited(alert.infos) if warns(info) and language_of(info.language)]
    try:
        found = concerned(relevant, geocodes)
    except ValidationError as exc:
        raise CapRejected(f"its areas cannot be a target: {describe(exc)}") from None
    if found is None:
        return "no warning names Liberec (geocode CISORP 5105) or gives a polygon or circle"
    infos, target = found
    current = [info for info in infos if info.expires is None or info.expires > now]
    if not current:
        return "every warning for the area has expired"
    expiries = [info.expires for info in current]
    starts = [start for info in current if (start := info.onset or info.effective) is not None]
    return Plan(
        infos=tuple(current),
        target=target,
        severity=severity_of(current),
        category=category_of(current, own=own_categories),
        onset=min(starts, default=None),
        expires_at=None if None in expiries else max(e for e in expiries if e is not None),
        facts=facts_of(alert, current, place="Liberec" if target.city else _places(current)),
    )


def _places(infos: list[CapInfo]) -> str:
    names = dict.fromkeys(area.description for info in infos for area in info.areas)
    return ", ".join(names) or "Liberec"


def facts_of(alert: CapAlert, infos: list[CapInfo], *, place: str) -> dict[Language, Facts]:
    """Per language the warning is given in: its events, the period they span, and each warning."""
    by_language: dict[Language, list[CapInfo]] = {}
    for info in infos:
        language = language_of(info.language)
        if language is not None:
            by_language.setdefault(language, []).append(info)
    facts: dict[Language, Facts] = {}
    for language, own in by_language.items():
        starts = [info.onset or info.effective or alert.sent for info in own]
        ends = [info.expires for info in own]
        facts[language] = Facts(
            title=", ".join(dict.fromkeys(info.event for info in own)),
            period=period(min(starts), None if None in ends else max(e for e in ends if e), language),
            places=place,
            sender=next((info.sender_name for info in own if info.sender_name), alert.sender),
            contact=next((info.contact for info in own if info.contact), None),
            warnings=tuple(_hazard(info, language, alert.sent) for info in own),
        )
    return facts


def _hazard(info: CapInfo, language: Language, sent: datetime) -> Hazard:
    return Hazard(
        event=info.event,
        severity=info.severity,
        period=period(info.onset or info.effective or sent, info.expires, language),
        headline=info.headline,
        description=info.description,
        instruction=info.instruction,
        web=info.web,
    )


def facts_json(facts: dict[Language, Facts]) -> dict[str, Any]:
    return {language.value: asdict(f) for language, f in facts.items()}


def facts_from_json(stored: dict[str, Any]) -> dict[Language, Facts]:
    return {
        Language(language): Facts(**{**f, "warnings": tuple(Hazard(**h) for h in f["warnings"])})
        for language, f in stored.items()
    }
