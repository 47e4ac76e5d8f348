from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_sms.callbacks import callback_router
from hlasatel_dispatch_sms.config import Settings
from hlasatel_dispatch_sms.provider import TwilioSmsProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-sms from its settings: the gateway account, and the secondary one if configured."""
    settings = settings or Settings()
    providers = [
        TwilioSmsProvider(
            base_url=settings.gateway_url,
            account_sid=settings.account_sid,
            auth_token=settings.auth_token.get_secret_value(),
            sender=settings.sender,
            status_callback_url=settings.status_callback_url,
            timeout_s=settings.timeout_s,
        )
    ]
    if settings.secondary is not None:
        providers.append(
            TwilioSmsProvider(
                base_url=settings.secondary.gateway_url,
                account_sid=settings.secondary.account_sid,
                auth_token=settings.secondary.auth_token.get_secret_value(),
                sender=settings.secondary.sender,
                status_callback_url=settings.status_callback_url,
                timeout_s=settings.timeout_s,
                name="twilio-secondary",
            )
        )
    app, dispatcher = build_dispatcher_app(channel=Channel.SMS, settings=settings, providers=providers)
    if settings.status_callback_url:
        tokens = [settings.auth_token.get_secret_value()]
        if settings.secondary is not None:
            tokens.append(settings.secondary.auth_token.get_secret_value())
        app.include_router(
            callback_router(
                dispatcher=dispatcher, auth_tokens=tokens, callback_url=settings.status_callback_url
            )
        )
    return app
