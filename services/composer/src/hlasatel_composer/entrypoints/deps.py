"""What every route of the composer needs: the composer, and the principal behind the API key."""

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hlasatel_composer.adapters import access
from hlasatel_composer.container import Composer
from hlasatel_composer.domain.access import Principal
from hlasatel_composer.domain.staff import SESSION_PREFIX
from hlasatel_composer.handlers import staff
from hlasatel_runtime.errors import SafeError


class NotAuthenticated(SafeError):
    """No API key, or one that is unknown or revoked."""


def _composer(request: Request) -> Composer:
    composer: Composer = request.app.state.composer
    return composer


ComposerDep = Annotated[Composer, Depends(_composer)]

bearer = HTTPBearer(
    auto_error=False,
    description="An API key ('Authorization: Bearer hls_…') or a staff member's session ('Bearer hss_…', "
    "from POST /v1/staff/sessions and its code)",
)


async def _principal(
    composer: ComposerDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("an API key or a session is required: 'Authorization: Bearer <key>'")
    token = credentials.credentials
    async with composer.sessions() as session:
        if token.startswith(SESSION_PREFIX):
            principal = await staff.principal_for_session(session, token)
        else:
            principal = await access.principal_for(session, token)
    if principal is None:
        raise NotAuthenticated("the API key is unknown or revoked, or the session has ended")
    if (per_minute := principal.scope.rate_limit_per_minute) is not None:
        composer.limiter.take(
            key_id=principal.key_id, name=principal.name, per_minute=per_minute, now=time.monotonic()
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]
