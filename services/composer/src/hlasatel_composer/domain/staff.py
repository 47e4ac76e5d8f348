"""The city's staff as they sign in: passwords, a second factor by TOTP, sessions, lock-out. Pure rules,
no I/O (argon2id and pyotp are computation).

A staff member signs in in two steps: the password opens a session that can do one thing, prove the
second factor (or enrol one, the first time); the code makes it a full session. A session ends after 30
minutes without use, after 12 hours in any case, at sign-out, or when its holder signs out everywhere.
Wrong passwords and codes in a row lock the account for a while that doubles with each further one.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hlasatel_runtime.errors import SafeError

SESSION_PREFIX = "hss_"
INVITATION_PREFIX = "hsi_"
IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=12)
# a password-only session has this long to prove the second factor
PENDING = timedelta(minutes=5)
INVITATION_VALID = timedelta(days=7)
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
MIN_PASSWORD = 12
MAX_PASSWORD = 256
TOTP_ISSUER = "Hlasatel"

# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes)
_HASHER = PasswordHasher()


class Stage(StrEnum):
    """What a session may do: prove the second factor (or enrol one), or everything the role allows."""

    TOTP = "totp"
    ENROL = "enrol"
    SIGNED_IN = "signed_in"


class SignInRefused(SafeError):
    """Wrong e-mail, password or code, a locked or disabled account: said alike, whichever it was."""


class WeakPassword(SafeError):
    """The password does not meet the policy."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """Whether the password is the one stored; a missing hash matches nothing, after the same work."""
    try:
        return _HASHER.verify(stored or _NOTHING, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


# a hash of a password nobody has: an unknown e-mail costs the same time as a wrong password
_NOTHING = _HASHER.hash(secrets.token_urlsafe(32))


def check_password_policy(password: str, *, email: str) -> None:
    """At least 12 characters, not the e-mail address (NIST SP 800-63B: length, not composition rules)."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD} characters")
    if password.strip().casefold() in {email.casefold(), email.split("@")[0].casefold()}:
        raise WeakPassword("a password is not the e-mail address")


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are random and long: a hash without salt is enough to keep them from the database's readers."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, email: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, *, at: datetime, last_step: int | None) -> int | None:
    """The time step a six-digit code belongs to (this one, or one either side for a clock that drifts),
    or None when it is wrong or was used already: a code works once."""
    digits = "".join(code.split())
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(at.timestamp()) // totp.interval
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.generate_otp(step), digits):
            return step if last_step is None or step > last_step else None
    return None


@dataclass(frozen=True)
class Lock:
    """How an account stands after failed attempts."""

    failures: int
    until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.until is not None and now < self.until


def after_failure(failures: int, now: datetime) -> Lock:
    """One more failure in a row: past the free attempts, locked for 30 s, then twice as long each time, at
    most 15 minutes."""
    failures += 1
    if failures < FREE_ATTEMPTS:
        return Lock(failures, None)
    lock = min(FIRST_LOCK * 2 ** (failures - FREE_ATTEMPTS), LONGEST_LOCK)
    return Lock(failures, now + lock)


def session_alive(*, created_at: datetime, last_seen_at: datetime, stage: Stage, now: datetime) -> bool:
    """Used within the idle time, and younger than the longest a session lasts (a password-only one: a
    few minutes)."""
    if stage is not Stage.SIGNED_IN:
        return now - created_at < PENDING
    return now - last_seen_at < IDLE and now - created_at < LONGEST
