"""The console's settings: where the composer and the registry are, its own secret, the map's tiles."""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hlasatel_runtime.secrets import DEVELOPMENT_SECRET


class Settings(BaseSettings):
    """Environment variables start with CONSOLE_, e.g. CONSOLE_COMPOSER_URL. The secret signs the forms'
    CSRF tokens and seals what a clerk's registration keeps between two pages; it never leaves here."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8005
    log_level: str = "INFO"
    # where staff reach the console: invitations link here
    public_url: str = "http://127.0.0.1:8005"
    composer_url: str = "http://127.0.0.1:8000"
    registry_url: str = "http://127.0.0.1:8001"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    api_timeout_s: float = Field(default=20.0, gt=0)
    # a tile server for the map's background, e.g. https://tiles.example.cz/{z}/{x}/{y}.png; without one the
    # map draws the register's points and the districts' outlines on a plain background
    tile_url: str | None = None
    tile_attribution: str = ""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    @model_validator(mode="after")
    def _production_is_private(self) -> "Settings":
        if self.environment != "production":
            return self
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError("CONSOLE_SECRET_KEY is the development default: set a secret of the deployment")
        if urlsplit(self.public_url).scheme != "https":
            raise ValueError("CONSOLE_PUBLIC_URL must be https:// in production: sessions travel in cookies")
        return self

    @property
    def tile_origin(self) -> str | None:
        """The tile server's origin, which the Content-Security-Policy allows images from."""
        if not self.tile_url:
            return None
        parts = urlsplit(self.tile_url)
        return f"{parts.scheme}://{parts.netloc}"
