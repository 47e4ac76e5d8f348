"""Who may do what: roles, API keys, their scopes and the four-eyes rule. Pure."""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from hlasatel_composer.domain.register import Resolved
from hlasatel_composer.domain.targeting import Selection
from hlasatel_contracts.addresses import label
from hlasatel_runtime.errors import SafeError

KEY_PREFIX = "hls_"


class Role(StrEnum):
    """Each of the city's roles may do what the roles before it may; the registry's key stands apart."""

    UTILITY = "utility"  # a utility's or an agency's system: sends alerts (JSON or CAP) within its scope
    EDITOR = "editor"  # writes drafts, previews, reads messages and reports
    APPROVER = "approver"  # approves and cancels messages
    ADMIN = "admin"  # manages API keys, reads the audit log
    REGISTRY = "registry"  # the registry itself: reads a subscriber's delivery history, for their export

    def includes(self, other: "Role") -> bool:
        if Role.REGISTRY in (self, other):
            return self is other
        order = [Role.UTILITY, Role.EDITOR, Role.APPROVER, Role.ADMIN]
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class Scope:
    """What a key may do within its role: categories (None is every one), an area (only address points it
    selects may be targeted), categories whose alerts go out without an approver, a rate limit; whether it
    may send emergencies, and whether its pre-approved alerts may go to more than four eyes' threshold
    (or the whole city) without an approver; the CAP senders it may speak for (None: any not yet taken)."""

    categories: frozenset[str] | None = None
    area: Selection | None = None
    pre_approved: frozenset[str] = frozenset()
    rate_limit_per_minute: int | None = None
    emergency: bool = False
    whole_city: bool = False
    cap_senders: frozenset[str] | None = None


@dataclass(frozen=True)
class Principal:
    """The holder of an API key, or a member of the staff signed in: told apart by the id, shown by the
    name the admin gave (a person or a system, never a citizen)."""

    key_id: str
    name: str
    role: Role
    scope: Scope = Scope()
    # a member of the staff signed in as themselves, rather than a key that a system or a desk may share
    person: bool = False


class Forbidden(SafeError):
    """The key's role does not allow this."""


class OutOfScope(SafeError):
    """The key may not send this category, or to these addresses."""


class FourEyesRequired(SafeError):
    """A large message needs an approver other than its author."""


def require(principal: Principal, role: Role) -> None:
    if not principal.role.includes(role):
        raise Forbidden(f"'{principal.name}' is {principal.role.value}; this needs {role.value}")


def check_category(principal: Principal, category: str) -> None:
    categories = principal.scope.categories
    if categories is not None and category not in categories:
        allowed = ", ".join(sorted(categories)) or "nothing"
        raise OutOfScope(f"'{principal.name}' may send {allowed}; not {category}")


def check_emergency(principal: Principal, severity: str) -> None:
    """Emergencies overtake everything and ignore quiet hours: only keys an admin allowed may send them."""
    if severity == "emergency" and not principal.scope.emergency:
        raise OutOfScope(f"'{principal.name}' may not send emergencies; an admin can allow it for the key")


def check_area(principal: Principal, resolved: Resolved) -> None:
    """Every targeted address point must lie in the key's area, if it has one."""
    area = principal.scope.area
    if area is None:
        return
    within = resolved.register.selected(area)
    # a point an import has since retired is no address to check any more
    outside = [c for c in resolved.codes if c not in within and resolved.register.point(c) is not None]
    if outside:
        example = resolved.register.point(outside[0])
        raise OutOfScope(
            f"{len(outside)} of the targeted address points lie outside the area of '{principal.name}'"
            + (f", e.g. {label(example)}" if example is not None else "")
        )


def new_key() -> str:
    """A fresh API key: 'hls_' and 43 characters of randomness (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """Keys are stored hashed; a random 256-bit key needs no salt or slow hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def needs_second_pair_of_eyes(*, subscribers: int, whole_city: bool, threshold: int) -> bool:
    return whole_city or subscribers > threshold


def check_four_eyes(
    *, author_key_id: str | None, approver: Principal, subscribers: int, whole_city: bool, threshold: int
) -> None:
    """Above the threshold, or to the whole city, the author's key may not approve its own message (keys
    are told apart by id: two keys of one name are two people); a member of the staff never approves
    their own."""
    if author_key_id == approver.key_id and approver.person:
        raise FourEyesRequired(
            "you wrote this message: another approver must approve it, so that two people have read it"
        )
    if author_key_id == approver.key_id and needs_second_pair_of_eyes(
        subscribers=subscribers, whole_city=whole_city, threshold=threshold
    ):
        reach = "the whole city" if whole_city else f"{subscribers} subscribers"
        raise FourEyesRequired(
            f"this message reaches {reach} (more than {threshold} needs four eyes): "
            "an approver other than its author must approve it"
        )
