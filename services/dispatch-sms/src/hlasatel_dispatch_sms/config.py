from pydantic import BaseModel, SecretStr
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings
from hlasatel_runtime.settings import DevelopmentDefault, is_http

DEV_TOKEN = "dev-token"


class GatewayAccount(BaseModel):
    """A gateway account; the second one, used while the first keeps failing, is DISPATCH_SMS_SECONDARY__…"""

    gateway_url: str
    account_sid: str
    auth_token: SecretStr
    sender: str = "Liberec"


class Settings(DispatchSettings):
    """Environment variables start with DISPATCH_SMS_, e.g. DISPATCH_SMS_GATEWAY_URL."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_SMS_", env_nested_delimiter="__", extra="ignore")

    port: int = 8002
    database_url: str = "sqlite:///var/dispatch-sms.db"
    gateway_url: str = "http://127.0.0.1:9101"
    account_sid: str = "AC" + "0" * 32
    auth_token: SecretStr = SecretStr(DEV_TOKEN)
    sender: str = "Liberec"
    status_callback_url: str | None = None
    timeout_s: float = 10.0
    secondary: GatewayAccount | None = None

    def accounts(self) -> list[GatewayAccount]:
        """The gateway accounts in order of preference: this one, then the secondary if configured."""
        primary = GatewayAccount(
            gateway_url=self.gateway_url,
            account_sid=self.account_sid,
            auth_token=self.auth_token,
            sender=self.sender,
        )
        return [primary] if self.secondary is None else [primary, self.secondary]

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for prefix, account in zip(("", "SECONDARY__"), self.accounts(), strict=False):
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
