from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hlasatel_runtime.settings import ServiceSettings

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(ServiceSettings):
    """Environment variables start with REGISTRY_, e.g. REGISTRY_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", env_nested_delimiter="__", extra="ignore")

    port: int = 8001
    database_url: str = "sqlite:///var/registry.db"
    public_url: str = "http://127.0.0.1:8001"
    # Signs e-mail verification and unsubscribe links and keys the hashes of codes and rate-limit keys.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    outbox_batch_size: int = 500
    outbox_idle_poll_s: float = 0.5
    code_ttl_s: int = 600
    code_attempts: int = 5
    code_requests_per_contact_per_hour: int = 5
    code_requests_per_ip_per_hour: int = 30
    wrong_codes_per_ip_per_hour: int = 30
    # The citizen portal's key for identity assertions: a PEM public key, or a JWKS URL.
    portal_public_key: str | None = None
    portal_jwks_url: str | None = None
    portal_issuer: str = "https://portal.liberec.cz"
    portal_audience: str = "hlasatel"

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError("production needs REGISTRY_SECRET_KEY set to a secret of its own")
        return self
