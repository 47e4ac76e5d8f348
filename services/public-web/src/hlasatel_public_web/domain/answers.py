"""A sign-up's answers, one question a page, kept sealed in the citizen's browser until they are done: which
question comes next, and the rules for what was typed. No I/O."""

import re
from dataclasses import asdict, dataclass, field
from datetime import time
from typing import Any

from hlasatel_web.words import N_

ROLES = ("resident", "owner", "workplace", "caregiver")
# how a citizen says their relation to an address (marked for the catalogues; translated where shown)
RELATIONS = {
    "resident": N_("I live here"),
    "owner": N_("I own it"),
    "workplace": N_("I work here"),
    "caregiver": N_("I care for someone who lives here"),
}
LANGUAGES = ("cs", "en", "de", "pl", "uk")
MAX_ADDRESSES = 10
# the quiet hours offered first: the night, when most people want no SMS
NIGHT = ("22:00", "07:00")
STEPS = (
    "address",
    "relation",
    "addresses",
    "contacts",
    "codes",
    "categories",
    "language",
    "quiet-hours",
    "check",
)


@dataclass
class SignUp:
    """What a citizen has answered so far; from `contacts` on, the registry holds the subscription and
    this holds its id and access token."""

    addresses: list[dict[str, Any]] = field(default_factory=list)  # {code, label, role}
    pending: dict[str, Any] | None = None  # the address found, before its relation is chosen
    more_addresses: bool | None = None
    subscriber_id: str | None = None
    token: str | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)  # {id, channel, value, verified}
    categories: list[str] | None = None
    language: str | None = None
    quiet: dict[str, str] | None = None  # {"choice": none|night|custom, "start", "end"}
    # the answers were checked and agreed to: the subscription is what they say
    agreed: bool = False

    @classmethod
    def of(cls, sealed: dict[str, Any] | None) -> "SignUp":
        if not sealed:
            return cls()
        known = {name: sealed[name] for name in cls.__dataclass_fields__ if name in sealed}
        return cls(**known)

    def sealed(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def registered(self) -> bool:
        return self.subscriber_id is not None and self.token is not None

    @property
    def verified(self) -> bool:
        return bool(self.contacts) and all(contact["verified"] for contact in self.contacts)

    def next_step(self) -> str:
        """The first question not answered yet."""
        if self.pending is not None:
            return "relation"
        if not self.addresses:
            return "address"
        if not self.registered:
            return "addresses" if self.more_addresses is None else "contacts"
        if not self.verified:
            return "codes"
        for step, answer in (("categories", self.categories), ("language", self.language)):
            if answer is None:
                return step
        return "quiet-hours" if self.quiet is None else "check"

    def may_visit(self, step: str) -> bool:
        """A question may be asked once those before it are answered; an address is not changed once the
        subscription exists (its own page does that afterwards), nor a contact (the codes' page does)."""
        if step in ("codes", "no-code"):
            return self.registered
        if step == "relation" and self.pending is None:
            return False
        if step == "check":
            return self.next_step() == "check"
        if step == "done":
            return self.agreed
        if self.registered and step in ("address", "relation", "addresses", "contacts"):
            return False
        return STEPS.index(step) <= STEPS.index(self.next_step())

    def add_address(self, role: str) -> None:
        assert self.pending is not None
        chosen = {"code": self.pending["code"], "label": self.pending["label"], "role": role}
        self.addresses = [a for a in self.addresses if a["code"] != chosen["code"]] + [chosen]
        self.pending, self.more_addresses = None, None

    def remove_address(self, code: int) -> None:
        self.addresses = [a for a in self.addresses if a["code"] != code]
        self.more_addresses = None

    def quiet_hours(self) -> dict[str, str] | None:
        """The registry's quiet hours for the answer: None for none."""
        if not self.quiet or self.quiet["choice"] == "none":
            return None
        return {"start": self.quiet["start"], "end": self.quiet["end"], "timezone": "Europe/Prague"}


def code_typed(text: str) -> str | None:
    """A six-digit code as people type it: with spaces, dashes or dots between the digits."""
    digits = re.sub(r"[\s\-.]", "", text)
    return digits if re.fullmatch(r"\d{6}", digits) else None


def clock(text: str) -> str | None:
    """'22:00', '7:00', '7.30' or '7' as HH:MM; None when it is no time of day."""
    found = re.fullmatch(r"\s*(\d{1,2})(?:[:.](\d{2}))?\s*", text)
    if found is None:
        return None
    hours, minutes = int(found.group(1)), int(found.group(2) or 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes).strftime("%H:%M")


def channel_of(contact: str) -> str:
    """An e-mail address has an @; anything else is taken for a phone number."""
    return "email" if "@" in contact else "sms"
