from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings


class Relay(BaseModel):
    """A second SMTP relay, used while the first keeps failing (DISPATCH_EMAIL_SECONDARY__SMTP_HOST…)."""

    smtp_host: str
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_tls: bool = False


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
    sender: str = "Statutární město Liberec <hlasatel@liberec.cz>"
    timeout_s: float = 30.0
    secondary: Relay | None = None
    # connections kept open to each relay and reused
    pool_size: int = Field(default=4, ge=1)
    # DKIM: all three, or none (no signing)
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_file: str | None = None

    @model_validator(mode="after")
    def _dkim_is_whole(self) -> "Settings":
        given = [self.dkim_selector, self.dkim_domain, self.dkim_private_key_file]
        if any(given) and not all(given):
            raise ValueError("DKIM needs dkim_selector, dkim_domain and dkim_private_key_file together")
        return self
