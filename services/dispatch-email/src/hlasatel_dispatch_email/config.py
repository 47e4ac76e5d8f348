from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings, ProviderAccount
from hlasatel_runtime.settings import DevelopmentDefault


class Relay(ProviderAccount):
    """An SMTP relay: DISPATCH_EMAIL_ACCOUNTS__0__SMTP_HOST, __0__SMTP_PORT, __0__SMTP_PASSWORD, …"""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    # a CA bundle for a relay whose certificate the system's CAs do not vouch for
    smtp_ca_file: str | None = None


class Settings(DispatchSettings[Relay]):
    """Environment variables start with DISPATCH_EMAIL_, e.g. DISPATCH_EMAIL_ACCOUNTS__0__SMTP_HOST."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_EMAIL_", env_nested_delimiter="__", extra="ignore")
    provider_name: ClassVar[str] = "smtp"

    port: int = 8003
    database_url: str = "sqlite:///var/dispatch-email.db"
    # the local fake relay in development
    accounts: list[Relay] = Field(default_factory=lambda: [Relay()])
    sender: str = "Statutární město Liberec <hlasatel@liberec.cz>"
    # connections kept open to each relay and reused
    pool_size: int = Field(default=4, ge=1)
    # DKIM: all three, or none (no signing)
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_file: str | None = None

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for index, relay in enumerate(self.accounts):
            if not (relay.smtp_starttls or relay.smtp_tls):
                found.append(
                    DevelopmentDefault(
                        "smtp_plaintext",
                        f"ACCOUNTS__{index}__SMTP_STARTTLS",
                        "SMTP without TLS: set it, or SMTP_TLS",
                    )
                )
        return found

    @model_validator(mode="after")
    def _dkim_is_whole(self) -> "Settings":
        given = [self.dkim_selector, self.dkim_domain, self.dkim_private_key_file]
        if any(given) and not all(given):
            raise ValueError("DKIM needs dkim_selector, dkim_domain and dkim_private_key_file together")
        return self
