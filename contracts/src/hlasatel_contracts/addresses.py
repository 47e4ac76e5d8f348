"""Addresses as people read them. Pure."""

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


def label(address: Labelled) -> str:
    """The address as the Czech post writes it: 'Masarykova 522/12, Liberec V-Kristiánov, 460 05'."""
    evidencni = address.building_kind == BuildingKind.EVIDENCNI
    if address.street:
        number = f"{'č.ev. ' if evidencni else ''}{address.building_number}"
        if address.orientation_number is not None:
            number += f"/{address.orientation_number}{address.orientation_letter or ''}"
        first = f"{address.street} {number}"
    else:
        first = f"{'č.ev.' if evidencni else 'č.p.'} {address.building_number}"
    postcode = address.postcode
    psc = f"{postcode[:3]} {postcode[3:]}" if len(postcode) == 5 else postcode
    return f"{first}, {address.district}, {psc}"
