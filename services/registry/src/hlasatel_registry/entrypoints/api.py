"""The registry's HTTP routes: they only call handlers."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hlasatel_registry import handlers
from hlasatel_registry.bootstrap import Registry
from hlasatel_registry.schemas import (
    AddressNotFound,
    AddressRead,
    AddressSearchRead,
    DistrictRead,
    StreetRead,
    SubscriberCreate,
    SubscriberRead,
)


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(_registry)]

router = APIRouter(prefix="/v1")


@router.post(
    "/subscribers",
    status_code=status.HTTP_201_CREATED,
    tags=["subscribers"],
    responses={422: {"description": "Invalid contact, unknown address point or malformed body"}},
)
async def register_subscriber(data: SubscriberCreate, registry: RegistryDep) -> SubscriberRead:
    """Register a citizen at one or more address points with their contacts."""
    try:
        return await handlers.register_subscriber(sessions=registry.sessions, relay=registry.relay, data=data)
    except handlers.UnknownAddressPoints as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail=[
                {
                    "loc": ["body", "addresses"],
                    "msg": str(exc),
                    "type": "unknown_address_point",
                    "codes": exc.codes,
                }
            ],
        ) from None


@router.get(
    "/subscribers/{subscriber_id}",
    tags=["subscribers"],
    responses={404: {"description": "No such subscriber"}},
)
async def get_subscriber(subscriber_id: UUID, registry: RegistryDep) -> SubscriberRead:
    """Everything the registry holds about one subscriber."""
    found = await handlers.get_subscriber(sessions=registry.sessions, subscriber_id=subscriber_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such subscriber")
    return found


@router.get("/districts", tags=["addresses"])
async def list_districts(registry: RegistryDep) -> list[DistrictRead]:
    """The city's districts (části obce) with their address point counts."""
    return await handlers.list_districts(sessions=registry.sessions)


@router.get(
    "/addresses/search",
    tags=["addresses"],
    response_model=AddressSearchRead,
    responses={
        404: {"model": AddressNotFound, "description": "Nothing matches; the nearest addresses are suggested"}
    },
)
async def search_addresses(
    registry: RegistryDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["Masarykova 12, Liberec"])],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> AddressSearchRead | JSONResponse:
    """Find address points as people type them: with or without diacritics, 'č.p./č.o.', letters."""
    try:
        return await handlers.search_addresses(
            sessions=registry.sessions, search=registry.search, text=q, limit=limit
        )
    except handlers.NoAddressMatches as exc:
        body = AddressNotFound(detail=f"no address matches {q!r}", suggestions=exc.suggestions)
        return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_404_NOT_FOUND)


@router.get("/districts/{district_code}/streets", tags=["addresses"])
async def list_streets(district_code: int, registry: RegistryDep) -> list[StreetRead]:
    """The streets of one district (část obce), for the composer's target picker."""
    return await handlers.list_streets(sessions=registry.sessions, district_code=district_code)


# after /addresses/search, which it would otherwise shadow
@router.get(
    "/addresses/{code}", tags=["addresses"], responses={404: {"description": "No such address point"}}
)
async def get_address(code: int, registry: RegistryDep) -> AddressRead:
    """One RÚIAN address point of the gazetteer."""
    found = await handlers.get_address(sessions=registry.sessions, code=code)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such address point")
    return found
