"""Settings every service shares; each service subclasses them under its own env prefix."""

import ssl
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    graceful_timeout_s: float = 15.0

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> "KafkaSettings":
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ValueError("SASL needs kafka sasl_username and sasl_password")
        return self

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context for SSL and SASL_SSL, trusting ``ssl_cafile`` when given."""
        if not self.security_protocol.endswith("SSL"):
            return None
        return ssl.create_default_context(cafile=self.ssl_cafile)


class ServiceSettings(BaseSettings):
    """Subclasses set ``model_config`` with their own ``env_prefix``."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int
    database_url: str
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    log_level: str = "INFO"
    # reverse proxies whose X-Forwarded-For is believed: per-IP limits need the citizen's own address
    trusted_proxies: str = "127.0.0.1"

    @model_validator(mode="after")
    def _production_needs_real_parts(self) -> "ServiceSettings":
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("production needs a PostgreSQL database_url, not SQLite")
        return self
