"""The guard every answer of a Hlasatel web application passes: a nonce for the page's scripts and the
Content-Security-Policy naming it, the browser's CSRF seed (a cookie set once), security headers, and no
caching of pages (they hold people's data); static files may be cached."""

import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from hlasatel_web.security import CSRF_COOKIE, SECURITY_HEADERS, content_security_policy, new_seed


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def install_guard(app: FastAPI, *, image_origin: str | None = None) -> None:
    """After it, `request.state.nonce` and `request.state.csrf_seed` are set for every request."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.nonce = new_nonce()
        seed = request.cookies.get(CSRF_COOKIE)
        fresh = not seed or len(seed) < 32
        request.state.csrf_seed = new_seed() if fresh else seed
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = content_security_policy(
            request.state.nonce, image_origin=image_origin
        )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if fresh:
            # Lax, not Strict: a link from a mail or a chat arrives without a Strict cookie and would get a
            # new seed, expiring every form open in the reader's other tabs; a form posted from another site
            # still carries no Lax cookie
            response.set_cookie(
                CSRF_COOKIE, request.state.csrf_seed, httponly=True, secure=True, samesite="lax"
            )
        return response
