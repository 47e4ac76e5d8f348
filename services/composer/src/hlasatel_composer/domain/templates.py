"""The city's alert templates: Jinja2 in a sandbox, one per language and kind of alert message. Pure.

An alert is rendered into every language its facts are given in; a template set has the shipped default
for each language and kind, and whatever an admin has put in its place.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, Field

from hlasatel_composer.domain.messages import ChannelContent, Content, EmailContent, PushContent
from hlasatel_contracts import Language
from hlasatel_runtime.errors import SafeError

PRAGUE = ZoneInfo("Europe/Prague")


class AlertKind(StrEnum):
    ALERT = "alert"  # a new outage or disruption
    UPDATE = "update"  # new times or a new area, to whoever is affected now
    RELEASED = "released"  # to those an update no longer affects
    CANCEL = "cancel"  # it will not happen, or was sent in error
    ALL_CLEAR = "all-clear"  # it is over
    WARNING = "warning"  # a public warning that came as CAP, in the warning's own words


class TemplateText(BaseModel):
    """One template: the SMS (also the push body), the e-mail subject (also the push title), the e-mail."""

    sms: str = Field(min_length=1, max_length=2000)
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=20_000)


class TemplateInvalid(SafeError):
    """A template does not compile or does not render with an example alert."""


@dataclass(frozen=True)
class Hazard:
    """One warning of a CAP alert, in one language."""

    event: str
    severity: str
    period: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None


@dataclass(frozen=True)
class Facts:
    """What a template may say, in one language: the variables it sees."""

    title: str
    period: str
    places: str
    sender: str
    planned: bool = True
    reason: str | None = None
    contact: str | None = None
    warnings: tuple[Hazard, ...] = field(default_factory=tuple)
    # "is over", agreeing with the title where the language needs it (unknown for a warning's own event)
    over: str | None = None

    def variables(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "period": self.period,
            "places": self.places,
            "sender": self.sender,
            "planned": self.planned,
            "reason": self.reason,
            "contact": self.contact,
            "warnings": self.warnings,
            "over": self.over,
        }


_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)

_FORMATS: dict[Language, tuple[str, str]] = {
    # (date and time, time): day-first everywhere but English, which spells the month
    Language.CS: ("{d}. {m}. {y} {H}:{M}", "{H}:{M}"),
    Language.EN: ("{d} {b} {y}, {HH}:{M}", "{HH}:{M}"),
    Language.DE: ("{dd}.{mm}.{y}, {HH}:{M}", "{HH}:{M}"),
    Language.PL: ("{dd}.{mm}.{y} {HH}:{M}", "{HH}:{M}"),
    Language.UK: ("{dd}.{mm}.{y} {HH}:{M}", "{HH}:{M}"),
}
_FROM = {Language.CS: "od", Language.EN: "from", Language.DE: "ab", Language.PL: "od", Language.UK: "з"}
# a text otherwise written in GSM-7 keeps a hyphen: an en dash would make its SMS UCS-2, 70 characters a
# segment instead of 160
_DASH = {Language.EN: "-", Language.DE: "-"}
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def when(moment: datetime, language: Language, *, time_only: bool = False) -> str:
    """A moment as people of the language write it, in Liberec's time."""
    local = moment.astimezone(PRAGUE)
    pattern = _FORMATS[language][1 if time_only else 0]
    return pattern.format(
        d=local.day,
        dd=f"{local.day:02d}",
        m=local.month,
        mm=f"{local.month:02d}",
        b=_MONTHS[local.month - 1],
        y=local.year,
        H=local.hour,
        HH=f"{local.hour:02d}",
        M=f"{local.minute:02d}",
    )


def period(start: datetime | None, end: datetime | None, language: Language) -> str:
    """Both moments in full across days, the end's time alone within a day, 'from …' without an end."""
    if start is None:
        return "" if end is None else when(end, language)
    if end is None:
        return f"{_FROM[language]} {when(start, language)}"
    same_day = start.astimezone(PRAGUE).date() == end.astimezone(PRAGUE).date()
    tail = when(end, language, time_only=same_day)
    dash = _DASH.get(language, "–")
    return (
        f"{when(start, language)} {dash} {tail}" if not same_day else f"{when(start, language)}{dash}{tail}"
    )


def _fit(text: str, limit: int) -> str:
    """Cut at the limit with an ellipsis: an alert too long for a channel still goes out."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Rendered:
    sms: str
    subject: str
    text: str

    def content(self) -> ChannelContent:
        subject = " ".join(self.subject.split())
        return ChannelContent(
            sms=_fit(self.sms.strip(), 1600),
            email=EmailContent(subject=_fit(subject, 200), text=_fit(self.text.strip(), 100_000)),
            push=PushContent(title=_fit(subject, 100), body=_fit(" ".join(self.sms.split()), 1000)),
        )


def render(template: TemplateText, facts: Facts) -> Rendered:
    """Render one template; a failure names the field and line."""
    rendered: dict[str, str] = {}
    for name in ("sms", "subject", "text"):
        source: str = getattr(template, name)
        try:
            rendered[name] = _ENVIRONMENT.from_string(source).render(facts.variables())
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{name}, line {line}" if line else name
            raise TemplateInvalid(f"{where}: {type(exc).__name__}: {exc.message or exc}") from None
        if not rendered[name].strip():
            raise TemplateInvalid(f"{name}: renders to nothing")
    return Rendered(**rendered)


def render_content(templates: Mapping[Language, TemplateText], facts: Mapping[Language, Facts]) -> Content:
    """The message in every language there are facts for; Czech, or the first language, is the fallback."""
    return content_of({language: render(templates[language], facts[language]) for language in facts})


def content_of(rendered: Mapping[Language, Rendered]) -> Content:
    """Rendered templates as a message: Czech, or the first language, is the fallback."""
    by_language = {language: text.content() for language, text in rendered.items()}
    fallback = by_language.get(Language.CS) or next(iter(by_language.values()))
    return Content(
        cs=fallback,
        **{language.value: c for language, c in by_language.items() if language is not Language.CS},
    )
