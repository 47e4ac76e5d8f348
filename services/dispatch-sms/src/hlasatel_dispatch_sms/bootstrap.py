from fastapi import FastAPI

from hlasatel_contracts import Channel
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_dispatch_sms.callbacks import callback_router
from hlasatel_dispatch_sms.config import GatewayAccount, Settings
from hlasatel_dispatch_sms.provider import TwilioSmsProvider


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build dispatch-sms from its settings: a client for each gateway account."""
    settings = settings or Settings()

    def provider(account: GatewayAccount) -> TwilioSmsProvider:
        return TwilioSmsProvider(
            base_url=account.gateway_url,
            account_sid=account.account_sid,
            auth_token=account.auth_token.get_secret_value(),
            sender=account.sender,
            status_callback_url=settings.status_callback_url,
            timeout_s=account.timeout_s,
            name=account.name,
        )

    app, dispatcher = build_dispatcher_app(channel=Channel.SMS, settings=settings, provider=provider)
    if settings.status_callback_url:
        tokens = [account.auth_token.get_secret_value() for account in settings.accounts]
        app.include_router(
            callback_router(
                dispatcher=dispatcher, auth_tokens=tokens, callback_url=settings.status_callback_url
            )
        )
    return app
