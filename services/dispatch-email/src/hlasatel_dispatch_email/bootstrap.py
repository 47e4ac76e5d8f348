from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_email.config import Relay, Settings
from hlasatel_dispatch_email.provider import SmtpEmailProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-email from its settings: the relay, and the secondary one if configured."""
    settings = settings or Settings()
    relays = [
        Relay(
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_username=settings.smtp_username,
            smtp_password=settings.smtp_password,
            smtp_starttls=settings.smtp_starttls,
            smtp_tls=settings.smtp_tls,
        ),
        *([settings.secondary] if settings.secondary else []),
    ]
    providers = [
        SmtpEmailProvider(
            host=relay.smtp_host,
            port=relay.smtp_port,
            sender=settings.sender,
            username=relay.smtp_username,
            password=relay.smtp_password.get_secret_value() if relay.smtp_password else None,
            start_tls=relay.smtp_starttls,
            use_tls=relay.smtp_tls,
            timeout_s=settings.timeout_s,
            name="smtp" if index == 0 else "smtp-secondary",
        )
        for index, relay in enumerate(relays)
    ]
    app, _ = build_dispatcher_app(channel=Channel.EMAIL, settings=settings, providers=providers)
    return app
