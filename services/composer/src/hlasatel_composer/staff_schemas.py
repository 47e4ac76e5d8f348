"""The staff API's requests and answers: signing in, the session, staff as an admin manages them."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from hlasatel_composer.domain.access import Role, Scope
from hlasatel_composer.domain.staff import MAX_PASSWORD, Stage
from hlasatel_composer.domain.targeting import Selection
from hlasatel_contracts import CATEGORIES


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Email = Annotated[str, Field(max_length=254, examples=["eva.editorova@liberec.cz"]), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD)]
StaffRole = Literal["editor", "approver", "admin"]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]


class SignIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "eva.editorova@liberec.cz", "password": "správné koně baterie"}]
        }
    )

    email: Annotated[str, Field(max_length=254)]
    password: Password


class Enrolment(BaseModel):
    """The second factor to set up: the secret an authenticator app is given, as a URI (a QR code's text)."""

    secret: str = Field(examples=["JBSWY3DPEHPK3PXP"])
    uri: str = Field(
        examples=[
            "otpauth://totp/Hlasatel:eva.editorova%40liberec.cz?secret=JBSWY3DPEHPK3PXP&issuer=Hlasatel"
        ]
    )


class SessionStarted(BaseModel):
    """A session that may only prove the second factor (`totp`) or set it up first (`enrol`)."""

    token: str = Field(description="The session's token: 'Authorization: Bearer hss_…'", examples=["hss_…"])
    stage: Stage
    expires_at: datetime = Field(description="It must be proved by then")
    enrolment: Enrolment | None = None


class Code(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492 039"}]})

    code: Annotated[str, Field(max_length=20, description="The six digits the authenticator app shows")]


class StaffScope(BaseModel):
    """As a key's: the categories and area the person works within, and what an admin allowed them."""

    categories: list[Category] | None = Field(default=None, description="Every category when absent")
    area: Selection | None = Field(default=None, description="Only messages within this area")
    emergency: bool = Field(default=False, description="May send emergencies")
    whole_city: bool = Field(default=False, description="May approve a message to the whole city alone")

    def scope(self) -> Scope:
        return Scope(
            categories=frozenset(self.categories) if self.categories is not None else None,
            area=self.area if self.area and not self.area.is_empty() else None,
            emergency=self.emergency,
            whole_city=self.whole_city,
        )


class StaffCreate(StaffScope):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Eva Editorová", "email": "eva.editorova@liberec.cz", "role": "editor"}]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Email
    role: StaffRole


class StaffSetUp(StaffCreate):
    """A member of the staff set up from the command line, password and all."""

    password: SecretStr = Field(min_length=1, max_length=MAX_PASSWORD)


class StaffUpdate(StaffScope):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "approver", "emergency": True}]})

    role: StaffRole | None = None


class StaffRead(StaffScope):
    id: UUID
    name: str
    email: str
    role: Role
    created_at: datetime
    created_by: str
    invited: bool = Field(description="The invitation is not accepted yet")
    second_factor: bool = Field(description="A TOTP app is set up")
    locked_until: datetime | None = None
    disabled_at: datetime | None = None


class StaffInvited(StaffRead):
    invitation: str = Field(
        description="Shown once: the single-use token of the invitation link, valid 7 days",
        examples=["hsi_…"],
    )
    invitation_expires_at: datetime


class InvitationAccept(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "hsi_…", "password": "správné koně baterie"}]}
    )

    token: Annotated[str, Field(max_length=100)]
    password: Password
