from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_push.config import FirebaseProject, Settings
from hlasatel_dispatch_push.provider import FcmPushProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-push from its settings: a client for each Firebase project."""
    settings = settings or Settings()

    def provider(project: FirebaseProject) -> FcmPushProvider:
        return FcmPushProvider(
            credentials_file=project.credentials_file,
            project_id=project.project_id,
            endpoint=project.fcm_endpoint,
            name=project.name,
            timeout_s=project.timeout_s,
        )

    app, _ = build_dispatcher_app(channel=Channel.PUSH, settings=settings, provider=provider)
    return app
