"""The links of messages sent before the citizen's pages moved to services/public-web: each is sent on to
the same path there (REGISTRY_PAGES_URL), so that every link ever sent still works. An e-mail client's
RFC 8058 one-click POST to an old List-Unsubscribe address is still done here, as it was promised."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from hlasatel_registry.container import Registry
from hlasatel_registry.entrypoints.api import RegistryDep
from hlasatel_registry.handlers import unsubscribe as unsubscribing

_MOVED: dict[int | str, dict[str, Any]] = {
    308: {"description": "The page is on the citizen's pages now (REGISTRY_PAGES_URL), at the same path"}
}
_DONE: dict[int | str, dict[str, Any]] = {
    303: {"description": "Done as the link says; the citizen's page for the link says what was done"},
    404: {"description": "The link is not valid, or the subscription no longer exists"},
}

router = APIRouter(prefix="/v1")
# the short form that fits an SMS footer: https://…/u/<code>
short_links = APIRouter(tags=["unsubscribe"])


def _moved_to(request: Request, registry: Registry) -> str:
    """The same path and query on the citizen's pages."""
    query = f"?{request.url.query}" if request.url.query else ""
    return registry.settings.pages_url.rstrip("/") + request.url.path + query


def _moved(request: Request, registry: Registry) -> RedirectResponse:
    return RedirectResponse(_moved_to(request, registry), status_code=308)


@router.get(
    "/verify/email", tags=["verification"], status_code=308, response_class=RedirectResponse, responses=_MOVED
)
async def email_link_page(request: Request, registry: RegistryDep) -> RedirectResponse:
    """An e-mail verification link: its page is on the citizen's pages."""
    return _moved(request, registry)


@router.get(
    "/unsubscribe/{code}",
    tags=["unsubscribe"],
    status_code=308,
    response_class=RedirectResponse,
    responses=_MOVED,
)
async def unsubscribe_page(code: str, request: Request, registry: RegistryDep) -> RedirectResponse:
    """An e-mail's unsubscribe link: its page is on the citizen's pages."""
    return _moved(request, registry)


@short_links.get("/u/{code}", status_code=308, response_class=RedirectResponse, responses=_MOVED)
async def sms_unsubscribe_page(code: str, request: Request, registry: RegistryDep) -> RedirectResponse:
    """An SMS footer's unsubscribe link: its page is on the citizen's pages."""
    return _moved(request, registry)


Confirm = Annotated[str | None, Form(description="'yes' confirms leaving every message")]


async def _one_click(
    request: Request, registry: Registry, code: str, category: str | None, confirm: str | None, via: str
) -> RedirectResponse:
    await unsubscribing.unsubscribe(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        code=code,
        category=category,
        confirmed=confirm == "yes",
        via=via,
    )
    return RedirectResponse(_moved_to(request, registry), status_code=303)


@router.post(
    "/unsubscribe/{code}",
    tags=["unsubscribe"],
    status_code=303,
    response_class=RedirectResponse,
    responses=_DONE,
)
async def unsubscribe(
    code: str, request: Request, registry: RegistryDep, category: str | None = None, confirm: Confirm = None
) -> RedirectResponse:
    """The RFC 8058 one-click target of an older message's List-Unsubscribe: leaves the link's category (a
    link for everything only with `confirm=yes`), then sends the reader to its page."""
    return await _one_click(request, registry, code, category, confirm, "email_link")


@short_links.post("/u/{code}", status_code=303, response_class=RedirectResponse, responses=_DONE)
async def sms_unsubscribe(
    code: str, request: Request, registry: RegistryDep, category: str | None = None, confirm: Confirm = None
) -> RedirectResponse:
    """An older page's form for an SMS footer's link: done as the link says, then its page."""
    return await _one_click(request, registry, code, category, confirm, "sms_link")
