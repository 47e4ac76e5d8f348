from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings
from hlasatel_runtime.settings import DevelopmentDefault


class Relay(BaseModel):
    """An SMTP relay; the second one, used while the first keeps failing, is DISPATCH_EMAIL_SECONDARY__…"""

    smtp_host: str
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_ca_file: str | None = None


class Settings(DispatchSettings):
    """Environment variables start with DISPATCH_EMAIL_, e.g. DISPATCH_EMAIL_SMTP_HOST."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_EMAIL_", env_nested_delimiter="__", extra="ignore")

    port: int = 8003
    database_url: str = "sqlite:///var/dispatch-email.db"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    # a CA bundle for a relay whose certificate the system's CAs do not vouch for
    smtp_ca_file: str | None = None
    sender: str = "Statutární město Liberec <hlasatel@liberec.cz>"
    timeout_s: float = 30.0
    secondary: Relay | None = None
    # connections kept open to each relay and reused
    pool_size: int = Field(default=4, ge=1)
    # DKIM: all three, or none (no signing)
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_file: str | None = None

    def accounts(self) -> list[Relay]:
        """The relays in order of preference: this one, then the secondary if configured."""
        primary = Relay(
            smtp_host=self.smtp_host,
            smtp_port=self.smtp_port,
            smtp_username=self.smtp_username,
            smtp_password=self.smtp_password,
            smtp_starttls=self.smtp_starttls,
            smtp_tls=self.smtp_tls,
            smtp_ca_file=self.smtp_ca_file,
        )
        return [primary] if self.secondary is None else [primary, self.secondary]

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for prefix, relay in zip(("", "SECONDARY__"), self.accounts(), strict=False):
            if not (relay.smtp_starttls or relay.smtp_tls):
                found.append(
                    DevelopmentDefault(
                        "smtp_plaintext", f"{prefix}SMTP_STARTTLS", "SMTP without TLS: set it, or SMTP_TLS"
                    )
                )
        return found

    @model_validator(mode="after")
    def _dkim_is_whole(self) -> "Settings":
        given = [self.dkim_selector, self.dkim_domain, self.dkim_private_key_file]
        if any(given) and not all(given):
            raise ValueError("DKIM needs dkim_selector, dkim_domain and dkim_private_key_file together")
        return self
