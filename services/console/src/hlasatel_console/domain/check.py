"""What the check page says will happen, and what it refuses: a target with no household of the register,
and the same message to the same target within the hour. Pure."""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from hlasatel_console.domain.compose import canonical, equivalent

Json = dict[str, Any]
DUPLICATE_WINDOW = timedelta(hours=1)
SENT = ("approved", "sending", "done")


class Words(Protocol):
    def gettext(self, text: str, /, **values: Any) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str: ...
    def number(self, value: float | int | None) -> str: ...


def count(words: Words, value: int | str, singular: str, plural: str) -> str:
    """'12 subscribers', or 'fewer than 5 subscribers' for a target narrowed by language or role."""
    if isinstance(value, int):
        return words.ngettext(singular, plural, value)
    return words.gettext("fewer than 5") + " " + words.ngettext(singular, plural, 5).split(" ", 1)[1]


def summary(preview: Json, words: Words) -> str:
    """'Send to 38 households — 12 subscribers: 9 SMS of 2 segments, 11 e-mails, 7 push notifications'."""
    households = words.ngettext("%(num)s household", "%(num)s households", int(preview["address_points"]))
    subscribers = count(words, preview["subscribers"], "%(num)s subscriber", "%(num)s subscribers")
    deliveries = preview.get("deliveries", {})
    parts = []
    if "sms" in deliveries:
        segments = max((length["segments"] for length in preview.get("sms", {}).values()), default=1)
        sms = count(words, deliveries["sms"], "%(num)s SMS", "%(num)s SMS")
        parts.append(sms + " " + words.ngettext("of %(num)s segment", "of %(num)s segments", segments))
    if "email" in deliveries:
        parts.append(count(words, deliveries["email"], "%(num)s e-mail", "%(num)s e-mails"))
    if "push" in deliveries:
        parts.append(
            count(words, deliveries["push"], "%(num)s push notification", "%(num)s push notifications")
        )
    said = words.gettext(
        "Send to %(households)s — %(subscribers)s", households=households, subscribers=subscribers
    )
    return said + (": " + ", ".join(parts) if parts else "")


def refusal(preview: Json, words: Words) -> str | None:
    """Why this cannot be sent at all, or None."""
    if int(preview["address_points"]) == 0:
        return words.gettext(
            "The target covers no household of the city's register, so nobody would get the message. "
            "Check the streets, districts and areas."
        )
    return None


# what an approver reads and approves: a change to any of it after they opened the page is a new message
READ = ("category", "severity", "content", "target", "send_at", "expires_at", "sms_transliterate", "follows")


def version_of(message: Json) -> str:
    """A digest of what the approver read, carried by the approval form: the approval is refused if the
    message has changed since."""
    read = canonical({key: message.get(key) for key in READ})
    return hashlib.sha256(json.dumps(read, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def duplicate_of(
    draft: Json, recent: list[Json], *, now: datetime, editing: str | None = None
) -> Json | None:
    """A message sent within the hour to the same target with the same Czech text, if there is one."""
    for message in recent:
        if message.get("id") == editing or message.get("state") not in SENT:
            continue
        written = datetime.fromisoformat(message["created_at"])
        if now - written > DUPLICATE_WINDOW:
            continue
        same_text = equivalent(
            (message.get("content") or {}).get("cs"), (draft.get("content") or {}).get("cs")
        )
        if same_text and equivalent(message.get("target"), draft.get("target")):
            return message
    return None
