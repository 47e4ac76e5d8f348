from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from hlasatel_dispatch.config import DispatchSettings
from hlasatel_runtime.settings import DevelopmentDefault, is_http


class FirebaseProject(BaseModel):
    """A Firebase project; the second, used while the first keeps failing, is DISPATCH_PUSH_SECONDARY__…"""

    credentials_file: str
    project_id: str | None = None
    fcm_endpoint: str | None = None


class Settings(DispatchSettings):
    """Environment variables start with DISPATCH_PUSH_, e.g. DISPATCH_PUSH_CREDENTIALS_FILE."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_PUSH_", env_nested_delimiter="__", extra="ignore")

    port: int = 8004
    database_url: str = "sqlite:///var/dispatch-push.db"
    credentials_file: str = "var/fakes/fcm-service-account.json"
    project_id: str | None = None
    # Empty means Google's own endpoint; development points it at the local fake.
    fcm_endpoint: str | None = None
    secondary: FirebaseProject | None = None
    # a notification FCM has not answered within this long is tried again (firebase-admin's own is 120 s)
    timeout_s: float = 30.0
    # FCM takes 500 messages a call: take as many from a lane at a time
    batch_size: int = 500

    def accounts(self) -> list[FirebaseProject]:
        """The Firebase projects in order of preference: this one, then the secondary if configured."""
        primary = FirebaseProject(
            credentials_file=self.credentials_file, project_id=self.project_id, fcm_endpoint=self.fcm_endpoint
        )
        return [primary] if self.secondary is None else [primary, self.secondary]

    def development_defaults(self) -> list[DevelopmentDefault]:
        found = super().development_defaults()
        for prefix, project in zip(("", "SECONDARY__"), self.accounts(), strict=False):
            if is_http(project.fcm_endpoint):
                found.append(
                    DevelopmentDefault(
                        "http_public_url", f"{prefix}FCM_ENDPOINT", "FCM over http:// (a fake)"
                    )
                )
        return found
