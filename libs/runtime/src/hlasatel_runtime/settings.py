"""Settings every service shares; each service subclasses them under its own env prefix.

A service whose database is not SQLite is a production deployment, and it refuses to start with any
development default (`development_defaults`) unless that one is allowed by name in `allow_insecure`.
"""

import ssl
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hlasatel_runtime.addresses import TrustedProxies
from hlasatel_runtime.secrets import DEVELOPMENT_SECRET, KeyRing

# what a production deployment may run with when it says so, each for a private network of its own
InsecureDefault = Literal[
    "development_secret", "sms_dev_token", "smtp_plaintext", "kafka_plaintext", "http_public_url"
]


@dataclass(frozen=True)
class DevelopmentDefault:
    """A setting still at a value that is only fit for a laptop: which allowance lets it run anyway."""

    allowance: InsecureDefault
    setting: str  # without the service's prefix, e.g. SECRET_KEY
    problem: str


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


def comma_separated(value: object) -> object:
    """`a,b,c` from the environment as a list; a list given in code stays as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ServiceSettings(BaseSettings):
    """Subclasses set ``model_config`` with their own ``env_prefix``."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int
    database_url: str
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    log_level: str = "INFO"
    # reverse proxies whose X-Forwarded-For is believed, as addresses or networks (10.0.0.0/8); none by
    # default, so that a client cannot name its own address; per-IP limits count what the last of them saw
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # the largest request body any route reads, in bytes (a route may allow more, such as CAP documents)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    allow_insecure: Annotated[list[InsecureDefault], NoDecode] = Field(default_factory=list)

    _split_trusted = field_validator("trusted_proxies", mode="before")(comma_separated)
    _split_allowed = field_validator("allow_insecure", mode="before")(comma_separated)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: list[str]) -> list[str]:
        TrustedProxies(value)  # refuses '*' and anything that is not an address or a network
        return value

    @property
    def production(self) -> bool:
        """A real database, or said so: development defaults are refused."""
        return self.environment == "production" or not self.database_url.startswith("sqlite")

    def proxies(self) -> TrustedProxies:
        return TrustedProxies(self.trusted_proxies)

    def development_defaults(self) -> list[DevelopmentDefault]:
        """The settings still at a development value; services add their own."""
        found = []
        if self.kafka.security_protocol == "PLAINTEXT":
            found.append(
                DevelopmentDefault(
                    "kafka_plaintext",
                    "KAFKA__SECURITY_PROTOCOL",
                    "Kafka without TLS (PLAINTEXT): set SSL or SASL_SSL",
                )
            )
        return found

    @model_validator(mode="after")
    def _production_needs_real_parts(self) -> "ServiceSettings":
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("production needs a PostgreSQL database_url, not SQLite")
        if not self.production:
            return self
        prefix = str(self.model_config.get("env_prefix", ""))
        refused = [d for d in self.development_defaults() if d.allowance not in self.allow_insecure]
        if refused:
            problems = "; ".join(f"{prefix}{d.setting}: {d.problem}" for d in refused)
            names = ",".join(sorted({d.allowance for d in refused}))
            raise ValueError(
                f"the database is not SQLite, so this is a production deployment, and it still runs with "
                f"development defaults — {problems}. Fix each, or, on a private network of your own, "
                f"allow it by name: {prefix}ALLOW_INSECURE={names}"
            )
        return self


class SigningSettings(ServiceSettings):
    """A service that signs and keys with a secret of its own: the current one, and the ones it replaced,
    still accepted (comma-separated in ``*_PREVIOUS_SECRET_KEYS``)."""

    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    _split_previous = field_validator("previous_secret_keys", mode="before")(comma_separated)

    def keys(self) -> KeyRing:
        return KeyRing(
            self.secret_key.get_secret_value(), [key.get_secret_value() for key in self.previous_secret_keys]
        )

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            found.append(DevelopmentDefault("development_secret", "SECRET_KEY", "the development secret"))
        return found


def is_http(url: str | None) -> bool:
    return bool(url) and str(url).startswith("http://")
