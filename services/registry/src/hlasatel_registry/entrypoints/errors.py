"""Every refusal of the registry's handlers as an HTTP answer with its reason."""

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from hlasatel_registry.adapters.composer import ComposerUnavailable, StaffNotSignedIn
from hlasatel_registry.adapters.limits import RateLimited
from hlasatel_registry.adapters.portal import InvalidAssertion, PortalUnavailable
from hlasatel_registry.handlers import subscribers, verification
from hlasatel_registry.handlers.common import NotAuthorized, NotFound


def _problem(status_code: int, loc: list[str], msg: str, kind: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": loc, "msg": msg, "type": kind, **extra}]}, status_code=status_code
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every refusal of the registry's handlers as an HTTP answer with its reason."""

    async def rate_limited(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )

    async def unknown_addresses(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, subscribers.UnknownAddressPoints)
        return _problem(422, ["body", "addresses"], str(exc), "unknown_address_point", codes=exc.codes)

    async def bad_assertion(_: Request, exc: Exception) -> Response:
        return _problem(422, ["header", "x-portal-assertion"], str(exc), "invalid_assertion")

    async def code_problem(_: Request, exc: Exception) -> Response:
        return _problem(422, ["body", "code"], str(exc), "invalid_code")

    async def not_authorized(_: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    async def not_found(_: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def phone_region(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, subscribers.PhoneRegionRefused)
        return _problem(422, exc.loc, str(exc), "phone_region_refused")

    async def upstream(_: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=502)

    app.add_exception_handler(RateLimited, rate_limited)
    app.add_exception_handler(subscribers.UnknownAddressPoints, unknown_addresses)
    app.add_exception_handler(InvalidAssertion, bad_assertion)
    app.add_exception_handler(subscribers.AssertionMismatch, bad_assertion)
    app.add_exception_handler(verification.WrongCode, code_problem)
    app.add_exception_handler(verification.NoValidCode, code_problem)
    app.add_exception_handler(NotAuthorized, not_authorized)
    app.add_exception_handler(StaffNotSignedIn, not_authorized)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(subscribers.PhoneRegionRefused, phone_region)
    app.add_exception_handler(PortalUnavailable, upstream)
    app.add_exception_handler(ComposerUnavailable, upstream)
