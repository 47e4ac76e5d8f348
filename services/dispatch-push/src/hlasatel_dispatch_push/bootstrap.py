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
            credentials_file=project.credentials_file,
            project_id=project.project_id,
            endpoint=project.fcm_endpoint,
            name="fcm" if index == 0 else "fcm-secondary",
            timeout_s=settings.timeout_s,
        )
        for index, project in enumerate(settings.accounts())
    ]
    app, _ = build_dispatcher_app(channel=Channel.PUSH, settings=settings, providers=providers)
    return app
