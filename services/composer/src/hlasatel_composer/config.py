from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hlasatel_runtime.settings import DevelopmentDefault, SigningSettings, is_http


class Settings(SigningSettings):
    """Environment variables start with COMPOSER_, e.g. COMPOSER_DATABASE_URL. The secret keys the contact's
    hash inside delivery ids, so that an id in a log cannot be traced to a phone number; a message fanned
    out with a replaced secret keeps its ids."""

    model_config = SettingsConfigDict(env_prefix="COMPOSER_", env_nested_delimiter="__", extra="ignore")

    port: int = 8000
    database_url: str = "sqlite:///var/composer.db"
    fanout_batch_size: int = 1000
    # changelog records (and the register's) applied in one transaction, and delivery statuses recorded
    # in one
    index_batch_size: int = 500
    status_batch_size: int = 500
    # a message to more subscribers than this, or to the whole city, needs an approver other than its author
    four_eyes_threshold: int = 1000
    fanout_idle_poll_s: float = 0.5
    # Where the citizen's pages are (services/public-web): messages carry their signed unsubscribe links
    # (an SMS footer, an e-mail's List-Unsubscribe); links to the registry's older address still work.
    unsubscribe_base_url: str | None = "http://127.0.0.1:8006"
    # Where citizens and other systems reach the composer: the public CAP and Atom feeds link to it.
    public_base_url: str = "http://127.0.0.1:8000"
    # the public address lookup: a message without an expiry is in force this long after it went out
    public_current_days: float = Field(default=7.0, gt=0)
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
    # previews a key may ask for in a minute: a preview answers how many people a target holds
    previews_per_minute: int = Field(default=30, ge=1)
    # who was sent what (deliveries, households) is kept this long after a message went out; then counts
    delivery_retention_days: float = Field(default=7.0, gt=0)
    retention_poll_s: float = Field(default=3600.0, gt=0)
    # templates: a render that takes longer is refused when saved and falls back to the shipped one
    template_timeout_s: float = Field(default=1.0, gt=0)
    # the largest request body (a message in five languages with HTML e-mails fits)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for setting, url in (
            ("PUBLIC_BASE_URL", self.public_base_url),
            ("UNSUBSCRIBE_BASE_URL", self.unsubscribe_base_url),
        ):
            if is_http(url):
                found.append(DevelopmentDefault("http_public_url", setting, "citizens' links over http://"))
        return found
