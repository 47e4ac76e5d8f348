"""What the tests that build a dispatcher as the services do have in common."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings, ProviderAccount


class OneAccount(DispatchSettings[ProviderAccount]):
    """A dispatcher's settings with one provider account of no channel's own kind."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_TEST_", extra="ignore")
    provider_name = "test"
    port: int = 8009
    accounts: list[ProviderAccount] = Field(default_factory=lambda: [ProviderAccount()])
