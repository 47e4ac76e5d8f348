from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_push.config import Settings
from hlasatel_dispatch_push.provider import FcmPushProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-push from its settings."""
    settings = settings or Settings()
    provider = FcmPushProvider(
        credentials_file=settings.credentials_file,
        project_id=settings.project_id,
        endpoint=settings.fcm_endpoint,
    )
    app, _ = build_dispatcher_app(channel=Channel.PUSH, settings=settings, provider=provider)
    return app
