"""The citizen's pages' settings: where the registry and the composer are, their own secret, and what the
privacy notice and the accessibility statement name (the city as controller, whom to ask)."""

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hlasatel_runtime.addresses import TrustedProxies
from hlasatel_runtime.secrets import DEVELOPMENT_SECRET
from hlasatel_runtime.settings import comma_separated


class Settings(BaseSettings):
    """Environment variables start with PUBLIC_WEB_, e.g. PUBLIC_WEB_REGISTRY_URL. The secret signs the
    forms' CSRF tokens and seals what the browser keeps between two pages (the answers of a sign-up, a
    short session's access token); it never leaves here."""

    model_config = SettingsConfigDict(env_prefix="PUBLIC_WEB_", env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8006
    log_level: str = "INFO"
    # where citizens reach these pages: the links in messages point here (REGISTRY_PAGES_URL,
    # COMPOSER_UNSUBSCRIBE_BASE_URL)
    public_url: str = "http://127.0.0.1:8006"
    registry_url: str = "http://127.0.0.1:8001"
    composer_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    api_timeout_s: float = Field(default=20.0, gt=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # how long a signed-in citizen's session lasts, and how long a sign-up's answers are kept in the browser
    session_minutes: int = Field(default=30, ge=5, le=24 * 60)
    sign_up_minutes: int = Field(default=60, ge=10, le=24 * 60)
    # our reverse proxies, whose X-Forwarded-For names the citizen; the registry counts its limits per
    # citizen's address, so it must list these pages among its REGISTRY_TRUSTED_PROXIES
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # the address these pages call the services from, where the machine has several (127.0.0.6 in `make
    # run`): the registry trusts the X-Forwarded-For of that one address only (REGISTRY_TRUSTED_PROXIES)
    source_address: str | None = None
    # the controller of the personal data and whom to ask, for the privacy notice (GDPR art. 13)
    controller: str = "Statutární město Liberec, nám. Dr. E. Beneše 1/1, 460 59 Liberec"
    contact_email: str = "posta@liberec.cz"
    protection_officer_email: str = "poverenec@liberec.cz"
    office: str = "Magistrát města Liberec, nám. Dr. E. Beneše 1/1, Liberec (Informační centrum)"
    # how long things are kept, as the registry and the composer are configured (the notice says so)
    unverified_hours: float = 24.0
    deliveries_days: float = 7.0

    _split_trusted = field_validator("trusted_proxies", mode="before")(comma_separated)

    @model_validator(mode="after")
    def _production_is_private(self) -> "Settings":
        self.proxies()
        if self.environment != "production":
            return self
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError(
                "PUBLIC_WEB_SECRET_KEY is the development default: set a secret of the deployment"
            )
        if urlsplit(self.public_url).scheme != "https":
            raise ValueError(
                "PUBLIC_WEB_PUBLIC_URL must be https:// in production: sessions travel in cookies"
            )
        return self

    def proxies(self) -> TrustedProxies:
        return TrustedProxies(self.trusted_proxies)
