"""Every refusal of the composer's handlers as an HTTP answer with its reason."""

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from hlasatel_composer.domain.access import Forbidden, FourEyesRequired, OutOfScope
from hlasatel_composer.domain.alerts import AlertConflict, NotInTheCity
from hlasatel_composer.domain.cap import CapRejected
from hlasatel_composer.domain.privacy import Withheld
from hlasatel_composer.domain.ratelimit import RateLimited
from hlasatel_composer.domain.staff import SignInRefused, WeakPassword
from hlasatel_composer.domain.templates import TemplateInvalid
from hlasatel_composer.entrypoints.deps import NotAuthenticated
from hlasatel_composer.handlers.common import InvalidTransition, MessageNotFound
from hlasatel_composer.handlers.idempotency import IdempotencyKeyReused, IdempotentRequestInProgress
from hlasatel_composer.handlers.keys import KeyNotFound
from hlasatel_composer.handlers.public import AddressNotFound
from hlasatel_composer.handlers.staff import InvitationInvalid, StaffExists, StaffNotFound
from hlasatel_runtime.errors import SafeError


class PayloadTooLarge(SafeError):
    """The request's body is larger than accepted."""


_STATUS: dict[type[SafeError], int] = {
    NotAuthenticated: 401,
    SignInRefused: 401,
    Forbidden: 403,
    FourEyesRequired: 403,
    OutOfScope: 403,
    Withheld: 403,
    MessageNotFound: 404,
    KeyNotFound: 404,
    AddressNotFound: 404,
    StaffNotFound: 404,
    StaffExists: 409,
    InvalidTransition: 409,
    AlertConflict: 409,
    IdempotentRequestInProgress: 409,
    PayloadTooLarge: 413,
    TemplateInvalid: 422,
    CapRejected: 422,
    NotInTheCity: 422,
    WeakPassword: 422,
    InvitationInvalid: 422,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
}


def install_error_handlers(app: FastAPI) -> None:
    async def refused(_: Request, exc: Exception) -> Response:
        status_code = next(code for error, code in _STATUS.items() if isinstance(exc, error))
        headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse({"detail": str(exc)}, status_code=status_code, headers=headers)

    for error in _STATUS:
        app.add_exception_handler(error, refused)
