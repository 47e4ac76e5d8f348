from pydantic_settings import SettingsConfigDict

from hlasatel_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment variables start with COMPOSER_, e.g. COMPOSER_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="COMPOSER_", env_nested_delimiter="__", extra="ignore")

    port: int = 8000
    database_url: str = "sqlite:///var/composer.db"
    fanout_batch_size: int = 500
    fanout_idle_poll_s: float = 0.5
    # The registry's public address: e-mails carry its signed unsubscribe links (List-Unsubscribe).
    unsubscribe_base_url: str | None = "http://127.0.0.1:8001"
