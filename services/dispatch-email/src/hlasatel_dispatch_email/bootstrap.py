from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_email.config import Settings
from hlasatel_dispatch_email.provider import SmtpEmailProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-email from its settings."""
    settings = settings or Settings()
    provider = SmtpEmailProvider(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.sender,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
        timeout_s=settings.timeout_s,
    )
    app, _ = build_dispatcher_app(channel=Channel.EMAIL, settings=settings, provider=provider)
    return app
