"""The console's app: its pages, its static files, and the guard every answer passes (CSP with a nonce,
a CSRF cookie, no caching of pages with people's data)."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hlasatel_console.config import Settings
from hlasatel_console.container import STATIC, Console, build_console
from hlasatel_console.entrypoints import admin, alerts, assisted, auth, compose, dashboard, messages
from hlasatel_console.entrypoints.web import (
    FormExpired,
    NotAllowed,
    Page,
    SignInNeeded,
    redirect,
    sign_in_url,
)
from hlasatel_console.labels import N_
from hlasatel_runtime.service import BodyLimit
from hlasatel_web.api import ApiRefused, ServiceUnavailable, SessionEnded
from hlasatel_web.guard import install_guard
from hlasatel_web.pages import SHARED_STATIC

ROLE_PHRASES = {"editor": N_("an editor"), "approver": N_("an approver"), "admin": N_("an admin")}
REFUSALS = {
    400: N_("This was refused"),
    403: N_("You may not do this"),
    404: N_("Not found"),
    409: N_("This cannot be done now"),
    429: N_("Too many requests"),
}


def _page(request: Request) -> Page:
    console: Console = request.app.state.console
    return Page(
        request=request,
        console=console,
        lang=console.languages.lang(request.cookies.get("hlasatel-language")),
    )


def install_error_pages(app: FastAPI) -> None:
    """Every refusal as a page that says why and what to do; a signed-out reader is sent to sign in."""

    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return redirect(sign_in_url(exc.back_to, ended=exc.ended))

    async def session_ended(request: Request, exc: Exception) -> Response:
        return redirect(sign_in_url(request.url.path if request.method == "GET" else "/", ended=True))

    async def not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotAllowed)
        page = _page(request)
        role = page.lang.gettext(ROLE_PHRASES[exc.role])
        text = page.lang.gettext("This page is for %(role)s. Ask an admin if you need it.", role=role)
        return page.render(
            "problem.html", h1=page.lang.gettext("You cannot use this page"), text=text, status_code=403
        )

    async def form_expired(request: Request, exc: Exception) -> Response:
        page = _page(request)
        text = page.lang.gettext(
            "The form was older than this browser's session, or came from elsewhere. Nothing was changed: "
            "go back, reload the page and send it again."
        )
        return page.render(
            "problem.html", h1=page.lang.gettext("The form has expired"), text=text, status_code=403
        )

    async def unavailable(request: Request, exc: Exception) -> Response:
        page = _page(request)
        text = page.lang.gettext(
            "Hlasatel's services did not answer, so nothing was changed. Try again in a moment; if it goes "
            "on, tell the city's IT."
        )
        return page.render(
            "problem.html",
            h1=page.lang.gettext("Sorry, something is not working"),
            text=text,
            detail=str(exc),
            status_code=503,
        )

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiRefused)
        page = _page(request)
        h1 = page.lang.gettext(REFUSALS.get(exc.status, REFUSALS[400]))
        return page.render("problem.html", h1=h1, text=exc.reason, status_code=exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(("/static/", "/api/")) or exc.status_code == 413:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        page = _page(request)
        if exc.status_code == 404:
            text = page.lang.gettext("Check the address, or start again from the dashboard.")
            return page.render(
                "problem.html", h1=page.lang.gettext("Page not found"), text=text, status_code=404
            )
        return page.render(
            "problem.html",
            h1=page.lang.gettext("This was refused"),
            text=str(exc.detail),
            status_code=exc.status_code,
        )

    app.add_exception_handler(SignInNeeded, sign_in)
    app.add_exception_handler(SessionEnded, session_ended)
    app.add_exception_handler(NotAllowed, not_allowed)
    app.add_exception_handler(FormExpired, form_expired)
    app.add_exception_handler(ServiceUnavailable, unavailable)
    app.add_exception_handler(ApiRefused, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)


def bootstrap(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    console = build_console(settings, transport)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await console.client.aclose()

    app = FastAPI(
        title="Hlasatel console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.console = console

    install_guard(app, image_origin=settings.tile_origin)
    install_error_pages(app)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, routes={})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "console"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = {}
        for name, url in (("composer", settings.composer_url), ("registry", settings.registry_url)):
            try:
                checks[name] = (await console.client.get(f"{url}/healthz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                checks[name] = False
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    for router in (
        auth.router,
        dashboard.router,
        compose.router,
        messages.router,
        alerts.router,
        admin.router,
        assisted.router,
    ):
        app.include_router(router)
    app.mount("/static/web", StaticFiles(directory=SHARED_STATIC), name="shared-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
