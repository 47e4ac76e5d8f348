from pathlib import Path

from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_email.config import Relay, Settings
from hlasatel_dispatch_email.provider import DkimKey, SmtpEmailProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-email from its settings: a client for each relay."""
    settings = settings or Settings()
    dkim_key = _dkim_key(settings)

    def provider(relay: Relay) -> SmtpEmailProvider:
        return SmtpEmailProvider(
            host=relay.smtp_host,
            port=relay.smtp_port,
            sender=settings.sender,
            username=relay.smtp_username,
            password=relay.smtp_password.get_secret_value() if relay.smtp_password else None,
            start_tls=relay.smtp_starttls,
            use_tls=relay.smtp_tls,
            ca_file=relay.smtp_ca_file,
            timeout_s=relay.timeout_s,
            name=relay.name,
            pool_size=settings.pool_size,
            dkim=dkim_key,
        )

    app, _ = build_dispatcher_app(channel=Channel.EMAIL, settings=settings, provider=provider)
    return app


def _dkim_key(settings: Settings) -> DkimKey | None:
    if not (settings.dkim_selector and settings.dkim_domain and settings.dkim_private_key_file):
        return None
    return DkimKey(
        selector=settings.dkim_selector,
        domain=settings.dkim_domain,
        private_key=Path(settings.dkim_private_key_file).read_bytes(),
    )
