"""The registry's HTTP routes: they only call handlers; errors become 4xx answers with a reason."""

import html
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from hlasatel_contracts.addresses import MAX_CODE
from hlasatel_registry.bootstrap import Registry
from hlasatel_registry.handlers import addresses, subscribers, verification
from hlasatel_registry.handlers.common import NotFound
from hlasatel_registry.schemas import (
    AddressNotFound,
    AddressRead,
    AddressSearchRead,
    CodeCheck,
    DistrictRead,
    StreetRead,
    SubscriberCreate,
    SubscriberCreated,
    SubscriberRead,
    SubscriberUpdate,
)


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _bearer(
    authorization: Annotated[str | None, Header(description="Bearer <access_token>")] = None,
) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


RegistryDep = Annotated[Registry, Depends(_registry)]
TokenDep = Annotated[str | None, Depends(_bearer)]
IpDep = Annotated[str | None, Depends(_ip)]

router = APIRouter(prefix="/v1")

Responses = dict[int | str, dict[str, Any]]
Code = Annotated[int, Path(ge=1, le=MAX_CODE, description="A RÚIAN code")]
_AUTH: Responses = {401: {"description": "Missing or wrong access token"}}
_LIMITED: Responses = {429: {"description": "Too many attempts; Retry-After says when to try again"}}
_INVALID: Responses = {422: {"description": "Invalid input: the field and the reason are named"}}
_NOT_FOUND: Responses = {404: {"description": "No such subscriber, contact or link"}}
_HTML = {
    "content": {"text/html": {"example": '<!doctype html><html lang="cs">…<form method="post">…</html>'}}
}
_EXPORT: Responses = {
    200: {
        "content": {
            "application/json": {
                "example": {
                    "subscriber": {"id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11", "version": 3},
                    "portal_subject": None,
                    "addresses": [
                        {
                            "address_point": 23657235,
                            "role": "resident",
                            "label": "Masarykova 522/12, Liberec I-Staré Město, 460 01",
                        }
                    ],
                    "contacts": [
                        {
                            "id": "5f0f5f7e-0a55-4b8e-9a9d-7b7f8c2d1e01",
                            "channel": "sms",
                            "value": "+420777123456",
                            "active": True,
                            "verified_at": "2026-11-22T08:01:00+00:00",
                            "deactivated_reason": None,
                        }
                    ],
                    "consents": [
                        {
                            "at": "2026-11-22T08:00:00+00:00",
                            "action": "registered",
                            "via": "api",
                            "terms": "hlasatel-2026",
                            "details": {"categories": ["water"]},
                        }
                    ],
                    "verification_codes_sent": [
                        {
                            "contact_id": "5f0f5f7e-0a55-4b8e-9a9d-7b7f8c2d1e01",
                            "sent_at": "2026-11-22T08:00:00+00:00",
                            "used_at": "2026-11-22T08:01:00+00:00",
                        }
                    ],
                }
            }
        }
    }
}
_SENT: Responses = {202: {"content": {"application/json": {"example": {"status": "sent"}}}}}
_NO_MATCH: Responses = {
    404: {"model": AddressNotFound, "description": "Nothing matches; the nearest addresses are suggested"}
}


@router.post("/subscribers", status_code=201, tags=["subscribers"], responses={**_INVALID, **_LIMITED})
async def register_subscriber(
    data: SubscriberCreate,
    registry: RegistryDep,
    ip: IpDep,
    x_portal_assertion: Annotated[
        str | None, Header(description="The citizen portal's signed JWT: makes the identity 'verified'")
    ] = None,
) -> SubscriberCreated:
    """Register a citizen at address points with contacts; phones and e-mail addresses get a code."""
    return await subscribers.register_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        portal=registry.portal,
        data=data,
        assertion=x_portal_assertion,
        ip=ip,
    )


@router.get("/subscribers/{subscriber_id}", tags=["subscribers"], responses=_AUTH)
async def get_subscriber(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> SubscriberRead:
    """The subscription, for its owner."""
    return await subscribers.get_subscriber(
        sessions=registry.sessions, settings=registry.settings, subscriber_id=subscriber_id, token=token
    )


@router.patch(
    "/subscribers/{subscriber_id}", tags=["subscribers"], responses={**_AUTH, **_INVALID, **_LIMITED}
)
async def update_subscriber(
    subscriber_id: UUID, data: SubscriberUpdate, registry: RegistryDep, token: TokenDep, ip: IpDep
) -> SubscriberRead:
    """Change language, categories, quiet hours or addresses, or add contacts."""
    return await subscribers.update_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        token=token,
        data=data,
        ip=ip,
    )


@router.delete("/subscribers/{subscriber_id}", status_code=204, tags=["subscribers"], responses=_AUTH)
async def erase_subscriber(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> Response:
    """Erase everything held about the subscriber; the city's systems are told by a tombstone."""
    await subscribers.erase_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        token=token,
    )
    return Response(status_code=204)


@router.get("/subscribers/{subscriber_id}/export", tags=["subscribers"], responses={**_AUTH, **_EXPORT})
async def export_subscriber(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> dict[str, Any]:
    """Everything the registry holds about the subscriber, as JSON."""
    return await subscribers.export_subscriber(
        sessions=registry.sessions, settings=registry.settings, subscriber_id=subscriber_id, token=token
    )


@router.delete(
    "/subscribers/{subscriber_id}/contacts/{contact_id}",
    tags=["subscribers"],
    responses={**_AUTH, **_NOT_FOUND},
)
async def remove_contact(
    subscriber_id: UUID, contact_id: UUID, registry: RegistryDep, token: TokenDep
) -> SubscriberRead:
    """Remove one phone number, e-mail address or push token."""
    return await subscribers.remove_contact(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        token=token,
        contact_id=contact_id,
    )


@router.post(
    "/subscribers/{subscriber_id}/contacts/{contact_id}/code",
    status_code=202,
    tags=["verification"],
    responses={**_AUTH, **_LIMITED, **_INVALID, **_SENT},
)
async def request_code(
    subscriber_id: UUID, contact_id: UUID, registry: RegistryDep, token: TokenDep, ip: IpDep
) -> dict[str, str]:
    """Send a new verification code to a phone number or e-mail address."""
    await verification.request_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        contact_id=contact_id,
        token=token,
        ip=ip,
    )
    return {"status": "sent"}


@router.post(
    "/subscribers/{subscriber_id}/contacts/{contact_id}/verify",
    tags=["verification"],
    responses={**_INVALID, **_LIMITED, **_NOT_FOUND},
)
async def verify_code(
    subscriber_id: UUID, contact_id: UUID, data: CodeCheck, registry: RegistryDep, ip: IpDep
) -> SubscriberRead:
    """Confirm a contact with the code it received."""
    return await verification.verify_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        contact_id=contact_id,
        code=data.code,
        ip=ip,
    )


def _page(title: str, body: str, *, form_action: str | None = None, button: str = "") -> HTMLResponse:
    form = (
        f'<form method="post" action="{html.escape(form_action)}"><button type="submit">{html.escape(button)}'
        "</button></form>"
        if form_action
        else ""
    )
    return HTMLResponse(
        f'<!doctype html><html lang="cs"><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p>{form}</html>"
    )


@router.get("/verify/email", tags=["verification"], response_class=HTMLResponse, responses={200: _HTML})
async def email_link_page(token: str) -> HTMLResponse:
    """The page behind the e-mail's link: a button, so that link scanners verify nothing."""
    return _page(
        "Ověření e-mailu",
        "Potvrďte, že tato e-mailová adresa je vaše.",
        form_action=f"/v1/verify/email?token={token}",
        button="Potvrdit",
    )


@router.post(
    "/verify/email", tags=["verification"], response_class=HTMLResponse, responses={**_INVALID, 200: _HTML}
)
async def verify_email_link(token: str, registry: RegistryDep) -> HTMLResponse:
    """Verify an e-mail address through the signed link it received."""
    await verification.verify_email_link(
        sessions=registry.sessions, relay=registry.relay, settings=registry.settings, token=token
    )
    return _page("E-mail ověřen", "Děkujeme, zprávy města vám budou chodit i e-mailem.")


def _unsubscribe_page(token: str, category: str | None, action: str) -> HTMLResponse:
    what = f"zprávy v kategorii {category}" if category else "všechny zprávy města"
    target = action + (f"?category={category}" if category else "")
    return _page("Odhlášení", f"Odhlásit {what}?", form_action=target, button="Odhlásit")


async def _unsubscribe(registry: Registry, token: str, category: str | None, *, via: str) -> HTMLResponse:
    done = await subscribers.unsubscribe(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        token=token,
        category=category,
        via=via,
    )
    return _page("Odhlášeno", done)


@router.get("/unsubscribe/{token}", tags=["unsubscribe"], response_class=HTMLResponse, responses={200: _HTML})
async def unsubscribe_page(token: str, category: str | None = None) -> HTMLResponse:
    """The page behind an e-mail's unsubscribe link: a button, so that link scanners unsubscribe nobody."""
    return _unsubscribe_page(token, category, f"/v1/unsubscribe/{token}")


@router.post(
    "/unsubscribe/{token}",
    tags=["unsubscribe"],
    response_class=HTMLResponse,
    responses={**_NOT_FOUND, 200: _HTML},
)
async def unsubscribe(token: str, registry: RegistryDep, category: str | None = None) -> HTMLResponse:
    """Unsubscribe without signing in; also the RFC 8058 one-click target of List-Unsubscribe."""
    return await _unsubscribe(registry, token, category, via="email_link")


# The short form that fits an SMS footer: https://…/u/<code>
short_links = APIRouter(tags=["unsubscribe"])


@short_links.get("/u/{token}", response_class=HTMLResponse, responses={200: _HTML})
async def sms_unsubscribe_page(token: str, category: str | None = None) -> HTMLResponse:
    """The page behind an SMS footer's link: a button, so that link previews unsubscribe nobody."""
    return _unsubscribe_page(token, category, f"/u/{token}")


@short_links.post("/u/{token}", response_class=HTMLResponse, responses={**_NOT_FOUND, 200: _HTML})
async def sms_unsubscribe(token: str, registry: RegistryDep, category: str | None = None) -> HTMLResponse:
    """Unsubscribe through the link in an SMS footer."""
    return await _unsubscribe(registry, token, category, via="sms_link")


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
        return await addresses.search_addresses(
            sessions=registry.sessions, search=registry.search, text=q, limit=limit
        )
    except addresses.NoAddressMatches as exc:
        body = AddressNotFound(detail=f"no address matches {q!r}", suggestions=exc.suggestions)
        return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_404_NOT_FOUND)


@router.get("/districts", tags=["addresses"])
async def list_districts(registry: RegistryDep) -> list[DistrictRead]:
    """The city's districts (části obce) with their address point counts."""
    return await addresses.list_districts(sessions=registry.sessions)


@router.get("/districts/{district_code}/streets", tags=["addresses"])
async def list_streets(district_code: Code, registry: RegistryDep) -> list[StreetRead]:
    """The streets of one district (část obce), for the composer's target picker."""
    return await addresses.list_streets(sessions=registry.sessions, district_code=district_code)


# after /addresses/search, which it would otherwise shadow
@router.get(
    "/addresses/{code}", tags=["addresses"], responses={404: {"description": "No such address point"}}
)
async def get_address(code: Code, registry: RegistryDep) -> AddressRead:
    """One RÚIAN address point of the gazetteer."""
    found = await addresses.get_address(sessions=registry.sessions, code=code)
    if found is None:
        raise NotFound("no such address point")
    return found
