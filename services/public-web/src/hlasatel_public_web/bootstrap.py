"""The citizen's pages' app: the pages, the static files (its own and the shared ones), and the guard every
answer passes (CSP with a nonce, a CSRF cookie, no caching of pages with people's data)."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hlasatel_public_web.config import Settings
from hlasatel_public_web.container import STATIC, PublicWeb, build_public_web
from hlasatel_public_web.entrypoints import house, info, links, manage, sign_in, sign_up
from hlasatel_public_web.entrypoints.web import (
    SESSION_COOKIE,
    Page,
    SignInNeeded,
    forget,
    redirect,
)
from hlasatel_runtime.service import BodyLimit
from hlasatel_web.api import ApiRefused, ServiceUnavailable, SessionEnded
from hlasatel_web.forms import FormExpired
from hlasatel_web.guard import install_guard
from hlasatel_web.pages import SHARED_STATIC
from hlasatel_web.security import LANGUAGE_COOKIE
from hlasatel_web.words import N_


def _page(request: Request) -> Page:
    public_web: PublicWeb = request.app.state.public_web
    return Page(
        request=request,
        public_web=public_web,
        lang=public_web.languages.lang(request.cookies.get(LANGUAGE_COOKIE)),
    )


# what a refusal says: its heading and what to do
PROBLEMS = {
    "expired": (
        N_("The form has expired"),
        N_(
            "The form was older than this browser's session, or came from elsewhere. Nothing was changed: go "
            "back, reload the page and send it again."
        ),
    ),
    "unavailable": (
        N_("Sorry, something is not working"),
        N_("The city's services did not answer, so nothing was changed. Try again in a few minutes."),
    ),
    "limited": (N_("Too many attempts"), N_("Wait a few minutes and try again.")),
    "refused": (N_("This could not be done"), N_("Go back and check what you entered.")),
    "not_found": (N_("Page not found"), N_("Check the address, or start again from the front page.")),
}


def _problem(request: Request, kind: str, status_code: int) -> Response:
    page = _page(request)
    h1, text = PROBLEMS[kind]
    return page.render(
        "problem.html", h1=page.lang.gettext(h1), text=page.lang.gettext(text), status_code=status_code
    )


def install_error_pages(app: FastAPI) -> None:
    """Every refusal as a page that says why and what to do; a signed-out reader is asked to sign in."""

    async def sign_in_again(request: Request, exc: Exception) -> Response:
        ended = isinstance(exc, SessionEnded) or (isinstance(exc, SignInNeeded) and exc.ended)
        return forget(redirect("/manage?ended=1" if ended else "/manage"), SESSION_COOKIE)

    async def form_expired(request: Request, exc: Exception) -> Response:
        return _problem(request, "expired", 403)

    async def unavailable(request: Request, exc: Exception) -> Response:
        return _problem(request, "unavailable", 503)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiRefused)
        return _problem(request, "limited" if exc.status == 429 else "refused", exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(("/static/", "/api/")) or exc.status_code == 413:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return _problem(request, "not_found" if exc.status_code == 404 else "refused", exc.status_code)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        return _problem(request, "not_found", 404)

    async def out_of_turn(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, sign_up.OutOfTurn)
        return redirect(exc.url)

    app.add_exception_handler(sign_up.OutOfTurn, out_of_turn)
    app.add_exception_handler(SignInNeeded, sign_in_again)
    app.add_exception_handler(SessionEnded, sign_in_again)
    app.add_exception_handler(FormExpired, form_expired)
    app.add_exception_handler(ServiceUnavailable, unavailable)
    app.add_exception_handler(ApiRefused, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)


def bootstrap(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    public_web = build_public_web(settings, transport)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await public_web.client.aclose()

    app = FastAPI(
        title="Hlasatel public pages", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.public_web = public_web
    install_guard(app)
    install_error_pages(app)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, routes={})

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "public-web"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = {}
        for name, url in (("composer", settings.composer_url), ("registry", settings.registry_url)):
            try:
                checks[name] = (await public_web.client.get(f"{url}/healthz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                checks[name] = False
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    for router in (info.router, sign_up.router, sign_in.router, manage.router, house.router, links.router):
        app.include_router(router)
    app.mount("/static/web", StaticFiles(directory=SHARED_STATIC), name="shared-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
