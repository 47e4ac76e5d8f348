"""What every route of the composer needs: the composer, and the principal behind the API key."""

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hlasatel_composer.adapters import access
from hlasatel_composer.container import Composer
from hlasatel_composer.domain.access import Principal
from hlasatel_runtime.errors import SafeError


class NotAuthenticated(SafeError):
    """No API key, or one that is unknown or revoked."""


def _composer(request: Request) -> Composer:
    composer: Composer = request.app.state.composer
    return composer


ComposerDep = Annotated[Composer, Depends(_composer)]

_bearer = HTTPBearer(auto_error=False, description="An API key: 'Authorization: Bearer hls_…'")


async def _principal(
    composer: ComposerDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("an API key is required: 'Authorization: Bearer <key>'")
    async with composer.sessions() as session:
        principal = await access.principal_for(session, credentials.credentials)
    if principal is None:
        raise NotAuthenticated("the API key is unknown or revoked")
    if (per_minute := principal.scope.rate_limit_per_minute) is not None:
        composer.limiter.take(
            key_id=principal.key_id, name=principal.name, per_minute=per_minute, now=time.monotonic()
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]
