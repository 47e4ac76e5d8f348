"""Alerts from utilities: the JSON outage event, the target it names, and what its templates are told.
Pure rules, no I/O."""

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.register import UnknownName
from hlasatel_composer.domain.targeting import (
    HouseNumbers,
    Latitude,
    Longitude,
    Polygon,
    StreetSelector,
    Target,
)
from hlasatel_composer.domain.template_defaults import over, title
from hlasatel_composer.domain.templates import Facts, period
from hlasatel_contracts import CATEGORIES, Language
from hlasatel_runtime.errors import SafeError


class AlertState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"  # cancelled or all clear: nothing more can follow


class MsgType(StrEnum):
    ALERT = "alert"
    UPDATE = "update"
    CANCEL = "cancel"
    ALL_CLEAR = "all-clear"


class AlertConflict(SafeError):
    """The event does not fit the alert it names: a second alert under one id, or a follow-up to none."""


class NotInTheCity(SafeError):
    """The addresses of an alert are no address points of the city's register."""


def not_in_the_city(unknown: Sequence[UnknownName]) -> str:
    """Why an alert reaches no address point of the city, with the names it got wrong and the nearest."""
    named = "; ".join(
        f"no {name.kind} '{name.name}'"
        + (f" (did you mean {', '.join(name.suggestions)}?)" if name.suggestions else "")
        for name in unknown
    )
    return "the affected addresses are no address points of the city's register" + (
        f": {named}" if named else ""
    )


class AffectedAddresses(BaseModel):
    """Where the outage is: address point codes, streets with house numbers, a polygon, or several."""

    address_points: list[int] = Field(default_factory=list, description="RÚIAN address point codes")
    streets: list[StreetSelector] = Field(default_factory=list)
    polygon: Annotated[list[tuple[Latitude, Longitude]], Field(min_length=3, max_length=10_000)] | None = (
        Field(default=None, description="WGS-84 vertices as [latitude, longitude]")
    )

    @model_validator(mode="after")
    def _something(self) -> "AffectedAddresses":
        if not (self.address_points or self.streets or self.polygon):
            raise ValueError("affected addresses need address_points, streets or a polygon")
        return self

    def target(self) -> Target:
        return Target(
            address_points=self.address_points,
            streets=self.streets,
            polygons=[Polygon(points=self.polygon)] if self.polygon else [],
        )


class AlertEvent(BaseModel):
    """An outage as a utility's system reports it; follow-ups name the original by its event id."""

    event_id: Annotated[
        str, Field(min_length=1, max_length=200, pattern=r"^\S+$", examples=["SVS-2026-4711"])
    ]
    msg_type: MsgType = Field(
        default=MsgType.ALERT, description="alert, or update / cancel / all-clear of it"
    )
    category: Annotated[Literal[CATEGORIES], Field(examples=["water"])]  # type: ignore[valid-type]
    type: Literal["planned", "unplanned"] = Field(default="planned", description="unplanned: a breakdown")
    severity: Severity = Severity.WARNING
    addresses: AffectedAddresses | None = Field(default=None, description="Required for an alert")
    start: datetime | None = Field(default=None, description="Planned start, ISO 8601 with zone")
    end: datetime | None = Field(default=None, description="Planned end")
    reason: Annotated[str, Field(max_length=300)] | None = None
    contact: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> "AlertEvent":
        if self.msg_type is MsgType.ALERT and (self.addresses is None or self.start is None):
            raise ValueError("an alert needs addresses and a start")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("the end must come after the start")
        return self

    def merged_into(self, previous: "AlertEvent") -> "AlertEvent":
        """An update states what changed; the rest stays as it was."""
        given = self.model_dump(exclude_unset=True)
        return AlertEvent.model_validate({**previous.model_dump(), **given, "msg_type": MsgType.ALERT})

    def digest(self) -> str:
        """The same event sent twice has the same digest, whatever the key order of its JSON."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _houses(houses: HouseNumbers | None) -> str:
    if houses is None:
        return ""
    numbers = ", ".join(houses.numbers)
    # three dots, not an ellipsis: the SMS of a language written in GSM-7 stays GSM-7
    side = {"odd": "1, 3, 5...", "even": "2, 4, 6..."}.get(houses.side or "", "")
    return " " + (numbers or side) if numbers or side else ""


def places(addresses: AffectedAddresses, streets: list[str], *, limit: int = 6) -> str:
    """The streets as the utility named them, then those its address points and polygon reach."""
    named = [f"{street.name}{_houses(street.houses)}" for street in addresses.streets]
    known = {street.name.casefold() for street in addresses.streets}
    named += [street for street in streets if street.casefold() not in known]
    shown = ", ".join(named[:limit])
    return shown + (", ..." if len(named) > limit else "") if shown else "Liberec"


def outage_facts(event: AlertEvent, *, sender: str, where: str) -> dict[Language, Facts]:
    """What the templates say of an outage, in every language the city writes."""
    return {
        language: Facts(
            title=title(language, event.category),
            period=period(event.start, event.end, language),
            places=where,
            sender=sender,
            planned=event.type == "planned",
            reason=event.reason,
            contact=event.contact,
            over=over(language, event.category),
        )
        for language in Language
    }


def event_of(stored: dict[str, Any]) -> AlertEvent:
    return AlertEvent.model_validate(stored)
