from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from hlasatel_runtime.settings import DevelopmentDefault, SigningSettings, comma_separated, is_http


class Settings(SigningSettings):
    """Environment variables start with REGISTRY_, e.g. REGISTRY_DATABASE_URL. The secret signs e-mail
    verification and unsubscribe links and keys the hashes of codes, tokens and rate-limit keys; what a
    replaced secret made stays valid."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", env_nested_delimiter="__", extra="ignore")

    port: int = 8001
    database_url: str = "sqlite:///var/registry.db"
    public_url: str = "http://127.0.0.1:8001"
    # where the citizen's pages are (services/public-web): the e-mail verification links go there, and the
    # links to the pages the registry itself served once are sent on there
    pages_url: str = "http://127.0.0.1:8006"
    outbox_batch_size: int = 500
    outbox_idle_poll_s: float = 0.5
    code_ttl_s: int = 600
    code_attempts: int = 5
    code_requests_per_contact_per_hour: int = 5
    code_requests_per_ip_per_hour: int = 30
    wrong_codes_per_ip_per_hour: int = 30
    # every registration counts, push-only ones too (they send no code, so no other limit sees them)
    registrations_per_ip_per_hour: int = 20
    # the countries whose phone numbers may register (ISO 3166 codes): the city pays for their SMS
    allowed_phone_regions: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["CZ", "SK"])
    # a registration none of whose contacts was verified, and a contact never verified, is deleted then
    unverified_ttl_h: float = Field(default=24.0, gt=0)
    janitor_poll_s: float = Field(default=600.0, gt=0)
    # The citizen portal's key for identity assertions: a PEM public key, or a JWKS URL.
    portal_public_key: str | None = None
    portal_jwks_url: str | None = None
    portal_issuer: str = "https://portal.liberec.cz"
    portal_audience: str = "hlasatel"
    # Where the composer is, and the key of role `registry` it gave the registry: a citizen's export
    # includes the delivery history the composer holds for them; a clerk's registration at the office is
    # checked with the composer, where the staff's accounts and sessions live.
    composer_url: str | None = None
    composer_key: SecretStr | None = None
    # a registration's body is small: a few addresses and contacts
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    _split_regions = field_validator("allowed_phone_regions", mode="before")(comma_separated)

    @field_validator("allowed_phone_regions")
    @classmethod
    def _regions_upper(cls, value: list[str]) -> list[str]:
        return [region.upper() for region in value]

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for setting, url in (("PUBLIC_URL", self.public_url), ("PAGES_URL", self.pages_url)):
            if is_http(url):
                found.append(DevelopmentDefault("http_public_url", setting, "citizens' links over http://"))
        return found
