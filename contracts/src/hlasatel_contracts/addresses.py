"""Addresses as people read them. Pure."""

import unicodedata
from typing import Annotated, Protocol

from pydantic import Field

from hlasatel_contracts.events import BuildingKind

# RÚIAN codes are positive and fit the databases' 64-bit integers; a larger number is no code at all
MAX_CODE = 2**63 - 1
# an address point's code wherever a client gives one: anything else is a 422, never a database error
AddressPointCode = Annotated[int, Field(ge=1, le=MAX_CODE)]


class Labelled(Protocol):
    """What a label is made of: an address point row and the changelog's snapshot both have it."""

    @property
    def street(self) -> str | None: ...
    @property
    def district(self) -> str: ...
    @property
    def building_kind(self) -> str: ...
    @property
    def building_number(self) -> int: ...
    @property
    def orientation_number(self) -> int | None: ...
    @property
    def orientation_letter(self) -> str | None: ...
    @property
    def postcode(self) -> str: ...


def house_number(address: Labelled) -> str:
    """The house's number as the Czech post writes it: '522/12' on a street, 'č.ev. 12', and 'č.p. 244'
    where there is no street."""
    evidencni = address.building_kind == BuildingKind.EVIDENCNI
    if not address.street:
        return f"{'č.ev.' if evidencni else 'č.p.'} {address.building_number}"
    number = f"{'č.ev. ' if evidencni else ''}{address.building_number}"
    if address.orientation_number is not None:
        number += f"/{address.orientation_number}{address.orientation_letter or ''}"
    return number


def postcode(address: Labelled) -> str:
    """PSČ as it is written: '460 05'."""
    code = address.postcode
    return f"{code[:3]} {code[3:]}" if len(code) == 5 else code


def label(address: Labelled) -> str:
    """The address as the Czech post writes it: 'Masarykova 522/12, Liberec V-Kristiánov, 460 05'."""
    first = f"{address.street} {house_number(address)}" if address.street else house_number(address)
    return f"{first}, {address.district}, {postcode(address)}"


# Czech alphabetical order (ČSN 97 6030): č, ř, š, ž and ch are letters of their own (after c, r, s, z and
# h); the other accents only break ties. A marker that sorts after every letter follows the base letter.
_OWN_LETTERS = {"č": "c~", "ř": "r~", "š": "s~", "ž": "z~"}


def czech(text: str) -> tuple[str, str]:
    """A key that sorts names as a Czech reader expects: Čapkova after Cihlářská, Chrastava after Hybešova."""
    lower = text.casefold().replace("ch", "h~")
    primary = "".join(
        _OWN_LETTERS.get(c)
        or "".join(d for d in unicodedata.normalize("NFD", c) if not unicodedata.combining(d))
        for c in lower
    )
    return primary, lower


def street_order(address: Labelled) -> tuple[object, ...]:
    """Addresses in the order of a walk through the city: by district, street and house number (the number
    on the street, then its letter, then the house's own number); houses without a street after the
    streets of their district."""
    return (
        czech(address.district),
        address.street is None,
        czech(address.street or ""),
        address.orientation_number if address.orientation_number is not None else address.building_number,
        address.orientation_letter or "",
        address.building_number,
    )
