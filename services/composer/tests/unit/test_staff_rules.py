"""The staff's sign-in rules, without a database: locks, codes, passwords, sessions."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from hlasatel_composer.domain import staff
from hlasatel_composer.domain.staff import Stage, WeakPassword

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


class TestLocks:
    def test_five_failures_lock_for_30_seconds_then_twice_as_long_each_time_at_most_15_minutes(self) -> None:
        failures, locks = 0, []
        for _ in range(12):
            lock = staff.after_failure(failures, NOW)
            failures = lock.failures
            locks.append(None if lock.until is None else lock.until - NOW)
        assert locks[:4] == [None] * 4
        assert locks[4:9] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
        assert locks[9:] == [timedelta(minutes=15)] * 3
        assert staff.Lock(5, NOW + timedelta(seconds=30)).locked(NOW) and not staff.Lock(5, NOW).locked(NOW)


class TestCodes:
    def test_a_code_of_this_step_or_the_next_to_it_works_once(self) -> None:
        secret = staff.new_totp_secret()
        totp = pyotp.TOTP(secret)
        step = int(NOW.timestamp()) // 30
        assert staff.totp_step(secret, totp.at(NOW), at=NOW, last_step=None) == step
        assert staff.totp_step(secret, totp.at(NOW), at=NOW, last_step=step) is None, "used already"
        late = NOW + timedelta(seconds=30)
        assert staff.totp_step(secret, totp.at(NOW), at=late, last_step=None) == step, "a slow clock"
        assert staff.totp_step(secret, totp.at(NOW), at=NOW + timedelta(seconds=90), last_step=None) is None
        assert staff.totp_step(secret, "12 34 5", at=NOW, last_step=None) is None

    def test_spaces_are_allowed_as_people_type_them(self) -> None:
        secret = staff.new_totp_secret()
        code = pyotp.TOTP(secret).at(NOW)
        assert staff.totp_step(secret, f" {code[:3]} {code[3:]} ", at=NOW, last_step=None) is not None


class TestPasswords:
    def test_length_not_composition(self) -> None:
        staff.check_password_policy("dlouhé heslo bez číslic", email="eva@liberec.cz")
        with pytest.raises(WeakPassword, match="12 characters"):
            staff.check_password_policy("Kr4tk@!", email="eva@liberec.cz")
        with pytest.raises(WeakPassword, match="e-mail"):
            staff.check_password_policy("eva.novakova.liberec", email="eva.novakova.liberec@liberec.cz")

    def test_argon2id_hashes_and_nothing_matches_no_hash(self) -> None:
        stored = staff.hash_password("správné koně baterie")
        assert stored.startswith("$argon2id$")
        assert staff.password_matches(stored, "správné koně baterie")
        assert not staff.password_matches(stored, "spravne kone baterie")
        assert not staff.password_matches(None, "správné koně baterie")


class TestSessions:
    def test_idle_for_30_minutes_or_older_than_12_hours_ends_it_and_a_password_only_one_lasts_5(self) -> None:
        def alive(created: timedelta, seen: timedelta, stage: Stage = Stage.SIGNED_IN) -> bool:
            return staff.session_alive(
                created_at=NOW - created, last_seen_at=NOW - seen, stage=stage, now=NOW
            )

        assert alive(timedelta(hours=2), timedelta(minutes=29))
        assert not alive(timedelta(hours=2), timedelta(minutes=31))
        assert not alive(timedelta(hours=12, seconds=1), timedelta(minutes=1))
        assert alive(timedelta(minutes=4), timedelta(minutes=4), Stage.TOTP)
        assert not alive(timedelta(minutes=6), timedelta(minutes=0), Stage.ENROL)
