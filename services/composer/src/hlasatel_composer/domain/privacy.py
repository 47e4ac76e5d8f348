"""What the press office may learn of a target narrowed by language, role or identity. Pure.

Such a target asks about people, not about houses: "how many Ukrainian speakers live at this address
point?" So every count of it below 5 is shown as "fewer than 5", and its reports do not list households.
"""

from typing import Literal

from hlasatel_composer.domain.targeting import TargetFilters
from hlasatel_runtime.errors import SafeError

SMALLEST_SHOWN = 5
FEWER_THAN: Literal["fewer than 5"] = "fewer than 5"

Count = int | Literal["fewer than 5"]


def narrowed(filters: TargetFilters) -> bool:
    """The target asks for subscribers of a language, role or identity level, not only for houses."""
    return bool(filters.identity_level or filters.roles or filters.languages)


def shown(count: int, *, narrow: bool) -> Count:
    """A count as it may be shown: below 5 (none included) it says only that, for a narrowed target."""
    return FEWER_THAN if narrow and count < SMALLEST_SHOWN else count


def shown_counts(counts: dict[str, int], *, narrow: bool) -> dict[str, Count]:
    return {key: shown(value, narrow=narrow) for key, value in counts.items()}


class Withheld(SafeError):
    """What was asked for would show where people of a language, role or identity live."""
