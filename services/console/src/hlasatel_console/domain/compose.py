"""The compose form and the composer's draft, both ways: what the press office typed becomes the JSON the
composer takes (with a reason per field for what cannot), and a draft becomes the form again. Pure."""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hlasatel_contracts import CATEGORIES

PRAGUE = ZoneInfo("Europe/Prague")
LANGUAGES = ("cs", "en", "de", "pl", "uk")
SEVERITIES = ("info", "warning", "emergency")
ROLES = ("resident", "owner", "workplace", "caregiver")
STREET_ROWS = 3
EXCLUDED_STREET_ROWS = 2
Json = dict[str, Any]
Gettext = Callable[..., str]


class Fields(Protocol):
    """A posted form: starlette's FormData, or a dict of lists in tests."""

    def get(self, key: str, /) -> Any: ...
    def getlist(self, key: str, /) -> list[Any]: ...


@dataclass
class StreetRow:
    name: str = ""
    district: str = ""
    numbers: str = ""
    by: str = "orientation"
    side: str = ""

    def empty(self) -> bool:
        return not self.name.strip()

    def selector(self) -> Json:
        chosen: Json = {"name": self.name.strip()}
        if self.district:
            chosen["district"] = self.district
        numbers = [part.strip() for part in re.split(r"[,;]", self.numbers) if part.strip()]
        if numbers or self.side:
            houses: Json = {}
            if self.by and self.by != "orientation":
                houses["by"] = self.by
            if numbers:
                houses["numbers"] = numbers
            if self.side:
                houses["side"] = self.side
            chosen["houses"] = houses
        return chosen

    @classmethod
    def of(cls, selector: Json) -> "StreetRow":
        houses = selector.get("houses") or {}
        return cls(
            name=selector.get("name", ""),
            district=selector.get("district") or "",
            numbers=", ".join(houses.get("numbers", [])),
            by=houses.get("by", "orientation"),
            side=houses.get("side") or "",
        )


@dataclass
class ComposeForm:
    """Everything the compose page holds, as typed."""

    category: str = "water"
    severity: str = "warning"
    send_at: str = ""
    expires_at: str = ""
    sms_transliterate: bool = False
    content: dict[str, dict[str, str]] = field(default_factory=lambda: {lang: {} for lang in LANGUAGES})
    city: bool = False
    districts: list[str] = field(default_factory=list)
    streets: list[StreetRow] = field(default_factory=list)
    address_points: list[str] = field(default_factory=list)
    polygons: str = ""
    circles: str = ""
    exclude_districts: list[str] = field(default_factory=list)
    exclude_streets: list[StreetRow] = field(default_factory=list)
    exclude_address_points: list[str] = field(default_factory=list)
    verified_only: bool = False
    roles: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    def text(self, language: str, part: str) -> str:
        return self.content.get(language, {}).get(part, "")

    def street_rows(self, minimum: int = STREET_ROWS) -> list[StreetRow]:
        return self.streets + [StreetRow() for _ in range(max(0, minimum - len(self.streets)))]

    def excluded_rows(self) -> list[StreetRow]:
        rows = self.exclude_streets
        return rows + [StreetRow() for _ in range(max(0, EXCLUDED_STREET_ROWS - len(rows)))]

    def languages_written(self) -> list[str]:
        return [
            lang for lang in LANGUAGES if any(value.strip() for value in self.content.get(lang, {}).values())
        ]


CONTENT_PARTS = ("sms", "email_subject", "email_text", "push_title", "push_body")


def _rows(fields: Fields, prefix: str) -> list[StreetRow]:
    count = _int(fields.get(f"{prefix}_count"), default=0)
    rows = []
    for index in range(min(count, 100)):
        row = StreetRow(
            name=_text(fields, f"{prefix}-{index}.name"),
            district=_text(fields, f"{prefix}-{index}.district"),
            numbers=_text(fields, f"{prefix}-{index}.numbers"),
            by=_text(fields, f"{prefix}-{index}.by") or "orientation",
            side=_text(fields, f"{prefix}-{index}.side"),
        )
        if not row.empty() or row.numbers:
            rows.append(row)
    return rows


def _text(fields: Fields, name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any, *, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _list(fields: Fields, name: str) -> list[str]:
    return [value.strip() for value in fields.getlist(name) if isinstance(value, str) and value.strip()]


def from_post(fields: Fields) -> ComposeForm:
    """The compose page as it was posted."""
    content = {
        lang: {part: value for part in CONTENT_PARTS if (value := _raw(fields, f"{lang}.{part}"))}
        for lang in LANGUAGES
    }
    return ComposeForm(
        category=_text(fields, "category") or "water",
        severity=_text(fields, "severity") or "warning",
        send_at=_text(fields, "send_at"),
        expires_at=_text(fields, "expires_at"),
        sms_transliterate=bool(_text(fields, "sms_transliterate")),
        content=content,
        city=bool(_text(fields, "city")),
        districts=_list(fields, "districts"),
        streets=_rows(fields, "street"),
        address_points=_list(fields, "address_points"),
        polygons=_raw(fields, "polygons").strip(),
        circles=_raw(fields, "circles").strip(),
        exclude_districts=_list(fields, "exclude_districts"),
        exclude_streets=_rows(fields, "xstreet"),
        exclude_address_points=[
            code
            for value in _list(fields, "exclude_address_points")
            for code in re.split(r"[,;\s]+", value)
            if code
        ],
        verified_only=bool(_text(fields, "verified_only")),
        roles=_list(fields, "roles"),
        languages=_list(fields, "languages"),
    )


def _raw(fields: Fields, name: str) -> str:
    """A text as typed: its lines and inner spaces kept (an SMS is counted as written)."""
    value = fields.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


@dataclass
class Built:
    """The draft the composer takes, or the reasons it cannot be made."""

    draft: Json
    errors: dict[str, str]


def build(form: ComposeForm, _: Gettext) -> Built:
    """The composer's MessageCreate from the form; each problem named against its field."""
    errors: dict[str, str] = {}
    if form.category not in CATEGORIES:
        errors["category"] = _("Choose a category")
    if form.severity not in SEVERITIES:
        errors["severity"] = _("Choose how urgent the message is")
    content = _content(form, errors, _)
    target = target_of(form, errors, _)
    draft: Json = {
        "category": form.category,
        "severity": form.severity,
        "content": content,
        "target": target,
        "sms_transliterate": form.sms_transliterate,
    }
    for name in ("send_at", "expires_at"):
        moment = _moment(getattr(form, name), name, errors, _)
        if moment is not None:
            draft[name] = moment
    return Built(draft=draft, errors=errors)


def _content(form: ComposeForm, errors: dict[str, str], _: Gettext) -> Json:
    content: Json = {}
    for lang in LANGUAGES:
        channels: Json = {}
        sms = form.text(lang, "sms")
        if sms:
            channels["sms"] = sms
        for channel, first, second in (("email", "subject", "text"), ("push", "title", "body")):
            one, other = form.text(lang, f"{channel}_{first}"), form.text(lang, f"{channel}_{second}")
            if one and other:
                channels[channel] = {first: one, second: other}
            elif one or other:
                missing = f"{lang}.{channel}_{second if one else first}"
                errors[missing] = (
                    _("Fill in both the e-mail's subject and its text, or neither")
                    if channel == "email"
                    else _("Fill in both the push notification's title and its text, or neither")
                )
        if channels:
            content[lang] = channels
    if "cs" not in content and not any(key.startswith("cs.") for key in errors):
        errors["cs.sms"] = _("Write the message in Czech for at least one channel: SMS, e-mail or push")
    return content


def target_of(form: ComposeForm, errors: dict[str, str], _: Gettext) -> Json:
    """The target as the composer reads it: the selectors, the exclusions and the filters."""
    target: Json = {}
    if form.city:
        target["city"] = True
    if form.districts:
        target["districts"] = form.districts
    if form.streets:
        target["streets"] = [row.selector() for row in form.streets]
    codes = _codes(form.address_points, "address_points", errors, _)
    if codes:
        target["address_points"] = codes
    polygons = parse_polygons(form.polygons)
    if polygons is None:
        errors["polygons"] = _(
            "Write each polygon on a line of its own as 'latitude longitude; …', 3 points at least"
        )
    elif polygons:
        target["polygons"] = [{"points": points} for points in polygons]
    circles = parse_circles(form.circles)
    if circles is None:
        errors["circles"] = _(
            "Write each circle on a line of its own as 'latitude longitude radius in metres'"
        )
    elif circles:
        target["circles"] = circles
    exclude: Json = {}
    if form.exclude_districts:
        exclude["districts"] = form.exclude_districts
    if form.exclude_streets:
        exclude["streets"] = [row.selector() for row in form.exclude_streets]
    excluded_codes = _codes(form.exclude_address_points, "exclude_address_points", errors, _)
    if excluded_codes:
        exclude["address_points"] = excluded_codes
    if exclude:
        target["exclude"] = exclude
    filters: Json = {}
    if form.verified_only:
        filters["identity_level"] = "verified"
    if form.roles:
        filters["roles"] = form.roles
    if form.languages:
        filters["languages"] = form.languages
    if filters:
        target["filters"] = filters
    if not any(
        key in target for key in ("city", "districts", "streets", "address_points", "polygons", "circles")
    ):
        errors.setdefault(
            "targets",
            _("Choose whom the message is for: the whole city, districts, streets, addresses or an area"),
        )
    return target


def _codes(values: Iterable[str], name: str, errors: dict[str, str], _: Gettext) -> list[int]:
    codes = []
    for value in values:
        if not value.isdigit():
            errors[name] = _("'%(value)s' is not an address point's code", value=value)
            continue
        codes.append(int(value))
    return codes


def parse_polygons(text: str) -> list[list[list[float]]] | None:
    """'lat lon; lat lon; lat lon' a line; None if a line does not read so."""
    polygons = []
    for line in text.splitlines():
        if not line.strip():
            continue
        points = [_numbers(pair) for pair in line.split(";") if pair.strip()]
        if len(points) < 3 or any(point is None or len(point) != 2 for point in points):
            return None
        polygons.append([[point[0], point[1]] for point in points if point is not None])
    return polygons


def parse_circles(text: str) -> list[Json] | None:
    circles = []
    for line in text.splitlines():
        if not line.strip():
            continue
        numbers = _numbers(line)
        if numbers is None or len(numbers) != 3 or numbers[2] <= 0:
            return None
        circles.append({"latitude": numbers[0], "longitude": numbers[1], "radius_m": numbers[2]})
    return circles


def _numbers(text: str) -> list[float] | None:
    try:
        return [float(part) for part in re.split(r"[\s,]+", text.strip()) if part]
    except ValueError:
        return None


def _moment(value: str, name: str, errors: dict[str, str], _: Gettext) -> str | None:
    """A time typed on Prague's clock, as ISO 8601 with its offset."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=PRAGUE).isoformat()
    except ValueError:
        errors[name] = _("Enter a date and time such as 8. 12. 2026 14:00")
        return None


def from_draft(draft: Json) -> ComposeForm:
    """A draft (the composer's message, or what the check page carried) as the compose page shows it."""
    target = draft.get("target") or {}
    exclude = target.get("exclude") or {}
    filters = target.get("filters") or {}
    content = {
        lang: {
            "sms": channels.get("sms") or "",
            "email_subject": (channels.get("email") or {}).get("subject", ""),
            "email_text": (channels.get("email") or {}).get("text", ""),
            "push_title": (channels.get("push") or {}).get("title", ""),
            "push_body": (channels.get("push") or {}).get("body", ""),
        }
        for lang, channels in (draft.get("content") or {}).items()
        if isinstance(channels, dict)
    }
    return ComposeForm(
        category=draft.get("category", "water"),
        severity=draft.get("severity", "warning"),
        send_at=_local(draft.get("send_at")),
        expires_at=_local(draft.get("expires_at")),
        sms_transliterate=bool(draft.get("sms_transliterate")),
        content={lang: content.get(lang, {}) for lang in LANGUAGES},
        city=bool(target.get("city")),
        districts=list(target.get("districts", [])),
        streets=[StreetRow.of(selector) for selector in target.get("streets", [])],
        address_points=[str(code) for code in target.get("address_points", [])],
        polygons="\n".join(
            "; ".join(f"{lat} {lon}" for lat, lon in polygon["points"])
            for polygon in target.get("polygons", [])
        ),
        circles="\n".join(
            f"{c['latitude']} {c['longitude']} {c['radius_m']}" for c in target.get("circles", [])
        ),
        exclude_districts=list(exclude.get("districts", [])),
        exclude_streets=[StreetRow.of(selector) for selector in exclude.get("streets", [])],
        exclude_address_points=[str(code) for code in exclude.get("address_points", [])],
        verified_only=filters.get("identity_level") == "verified",
        roles=list(filters.get("roles") or []),
        languages=list(filters.get("languages") or []),
    )


def _local(value: str | None) -> str:
    """An ISO 8601 moment as a datetime-local field shows it, on Prague's clock."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(PRAGUE).strftime("%Y-%m-%dT%H:%M")


def field_of(location: str) -> str:
    """Where on the form a composer's complaint about a part of the draft belongs."""
    parts = location.split(".")
    if parts[0] == "content" and len(parts) >= 3:
        lang, channel = parts[1], parts[2]
        if channel in ("email", "push") and len(parts) >= 4:
            return f"{lang}.{channel}_{parts[3]}"
        return f"{lang}.{channel}"
    if parts[0] == "target" and len(parts) >= 3 and parts[1] == "streets" and parts[2].isdigit():
        return f"street-{parts[2]}." + ("numbers" if "houses" in parts else "name")
    if (
        parts[0] == "target"
        and len(parts) >= 2
        and parts[1] in ("polygons", "circles", "districts", "address_points")
    ):
        return parts[1]
    if parts[0] in ("category", "severity", "send_at", "expires_at"):
        return parts[0]
    return "targets" if parts[0] == "target" else "form"


def carried(draft: Json) -> str:
    """The draft as the check page carries it to be sent: compact JSON."""
    return json.dumps(draft, ensure_ascii=False, separators=(",", ":"))


def equivalent(one: Json | None, other: Json | None) -> bool:
    """Two drafts' parts (targets, contents) are the same once keys are in order and empty parts dropped."""
    return bool(canonical(one) == canonical(other))


def canonical(value: Any) -> Any:
    """The value with its keys in order and what says nothing (None, empty, false) left out, inside out:
    the composer answers a target with every default filled in, a draft leaves them out."""
    if isinstance(value, dict):
        inner = {key: canonical(item) for key, item in sorted(value.items())}
        return {key: item for key, item in inner.items() if item not in (None, [], {}, False)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value
