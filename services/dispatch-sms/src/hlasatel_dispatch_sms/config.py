from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings, ProviderAccount
from hlasatel_runtime.settings import DevelopmentDefault, is_http

DEV_TOKEN = "dev-token"


class GatewayAccount(ProviderAccount):
    """A gateway account: DISPATCH_SMS_ACCOUNTS__0__GATEWAY_URL, __0__ACCOUNT_SID, __0__AUTH_TOKEN, …"""

    gateway_url: str = "http://127.0.0.1:9101"
    account_sid: str = "AC" + "0" * 32
    auth_token: SecretStr = SecretStr(DEV_TOKEN)
    sender: str = "Liberec"
    timeout_s: float = Field(default=10.0, gt=0)


class Settings(DispatchSettings[GatewayAccount]):
    """Environment variables start with DISPATCH_SMS_, e.g. DISPATCH_SMS_ACCOUNTS__0__GATEWAY_URL."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_SMS_", env_nested_delimiter="__", extra="ignore")
    provider_name: ClassVar[str] = "twilio"

    port: int = 8002
    database_url: str = "sqlite:///var/dispatch-sms.db"
    # the local fake gateway in development
    accounts: list[GatewayAccount] = Field(default_factory=lambda: [GatewayAccount()])
    status_callback_url: str | None = None

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for index, account in enumerate(self.accounts):
            prefix = f"ACCOUNTS__{index}__"
            if account.auth_token.get_secret_value() == DEV_TOKEN:
                found.append(
                    DevelopmentDefault("sms_dev_token", f"{prefix}AUTH_TOKEN", "the fake gateway's dev-token")
                )
            if is_http(account.gateway_url):
                found.append(
                    DevelopmentDefault("http_public_url", f"{prefix}GATEWAY_URL", "the gateway over http://")
                )
        if is_http(self.status_callback_url):
            found.append(
                DevelopmentDefault("http_public_url", "STATUS_CALLBACK_URL", "delivery reports over http://")
            )
        return found
