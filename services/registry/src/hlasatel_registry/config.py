from pydantic_settings import SettingsConfigDict

from hlasatel_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment variables start with REGISTRY_, e.g. REGISTRY_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", env_nested_delimiter="__", extra="ignore")

    port: int = 8001
    database_url: str = "sqlite:///var/registry.db"
    outbox_batch_size: int = 500
    outbox_idle_poll_s: float = 0.5
