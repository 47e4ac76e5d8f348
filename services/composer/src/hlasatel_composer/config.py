from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hlasatel_runtime.settings import ServiceSettings

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(ServiceSettings):
    """Environment variables start with COMPOSER_, e.g. COMPOSER_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="COMPOSER_", env_nested_delimiter="__", extra="ignore")

    port: int = 8000
    database_url: str = "sqlite:///var/composer.db"
    fanout_batch_size: int = 1000
    # changelog records applied in one transaction
    index_batch_size: int = 500
    # a message to more subscribers than this, or to the whole city, needs an approver other than its author
    four_eyes_threshold: int = 1000
    fanout_idle_poll_s: float = 0.5
    # The registry's public address: e-mails carry its signed unsubscribe links (List-Unsubscribe).
    unsubscribe_base_url: str | None = "http://127.0.0.1:8001"
    # Where citizens and other systems reach the composer: the public CAP and Atom feeds link to it.
    public_base_url: str = "http://127.0.0.1:8000"
    # CAP <sender> of the city's own exported alerts
    cap_sender: str = "hlasatel@liberec.cz"
    # the largest CAP document accepted: ČHMÚ's national warnings are about 1 MB
    cap_max_bytes: int = 5_000_000
    # A delivery with no status from its dispatcher for this long is published again (the broker may have
    # lost it), at most redrive_max times, then reported failed. Above the longest a bulk lane can take to
    # drain, or every re-drive only adds duplicates for the dispatchers' ledgers to refuse.
    redrive_after_s: float = 900.0
    redrive_max: int = 3
    redrive_poll_s: float = 30.0
    # Keys the contact's hash inside delivery ids, so that an id in a log cannot be traced to a phone number.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError("production needs COMPOSER_SECRET_KEY set to a secret of its own")
        return self
