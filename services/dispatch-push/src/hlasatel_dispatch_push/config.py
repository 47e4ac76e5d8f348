from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings, ProviderAccount
from hlasatel_runtime.settings import DevelopmentDefault, is_http


class FirebaseProject(ProviderAccount):
    """A Firebase project: DISPATCH_PUSH_ACCOUNTS__0__CREDENTIALS_FILE, __0__PROJECT_ID, __0__FCM_ENDPOINT."""

    credentials_file: str = "var/fakes/fcm-service-account.json"
    project_id: str | None = None
    # Empty means Google's own endpoint; development points it at the local fake.
    fcm_endpoint: str | None = None
    # a notification FCM has not answered within this long is tried again (firebase-admin's own is 120 s)
    timeout_s: float = Field(default=30.0, gt=0)


class Settings(DispatchSettings[FirebaseProject]):
    """Environment variables start with DISPATCH_PUSH_, e.g. DISPATCH_PUSH_ACCOUNTS__0__CREDENTIALS_FILE."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_PUSH_", env_nested_delimiter="__", extra="ignore")
    provider_name: ClassVar[str] = "fcm"

    port: int = 8004
    database_url: str = "sqlite:///var/dispatch-push.db"
    accounts: list[FirebaseProject] = Field(default_factory=lambda: [FirebaseProject()])
    # FCM takes 500 messages a call: take as many from a lane at a time
    batch_size: int = 500

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for index, project in enumerate(self.accounts):
            if is_http(project.fcm_endpoint):
                found.append(
                    DevelopmentDefault(
                        "http_public_url", f"ACCOUNTS__{index}__FCM_ENDPOINT", "FCM over http:// (a fake)"
                    )
                )
        return found
