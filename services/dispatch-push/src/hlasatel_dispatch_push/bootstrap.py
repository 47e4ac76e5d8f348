from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_push.config import Settings
from hlasatel_dispatch_push.provider import FcmPushProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-push from its settings: the Firebase project, and the secondary one if configured."""
    settings = settings or Settings()
    providers = [
        FcmPushProvider(
            credentials_file=settings.credentials_file,
            project_id=settings.project_id,
            endpoint=settings.fcm_endpoint,
        )
    ]
    if settings.secondary is not None:
        providers.append(
            FcmPushProvider(
                credentials_file=settings.secondary.credentials_file,
                project_id=settings.secondary.project_id,
                endpoint=settings.secondary.fcm_endpoint,
                name="fcm-secondary",
            )
        )
    app, _ = build_dispatcher_app(channel=Channel.PUSH, settings=settings, providers=providers)
    return app
