import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hlasatel_runtime.database import async_url, build_engine
from hlasatel_runtime.errors import SafeError, describe
from hlasatel_runtime.logs import RedactingFormatter, redact
from hlasatel_runtime.settings import KafkaSettings, ServiceSettings


class Contact(BaseModel):
    phone: int


class TestPrivacy:
    @pytest.mark.parametrize(
        "line",
        [
            "sending to +420777123456 failed",
            "sending to 777 123 456 failed",
            "mailbox jana.novakova@example.cz unknown",
        ],
    )
    def test_contacts_never_reach_a_log_line(self, line: str) -> None:
        cleaned = redact(line)
        assert "777" not in cleaned and "novakova" not in cleaned
        assert cleaned.startswith(line.split()[0])

    def test_a_traceback_is_redacted_too(self) -> None:
        formatter = RedactingFormatter("%(message)s")
        try:
            raise ValueError("duplicate contact jana@example.cz")
        except ValueError:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
        formatted = formatter.format(record)
        assert "Traceback" in formatted and "jana" not in formatted

    async def test_database_errors_do_not_carry_their_parameters(self, tmp_path: Path) -> None:
        engine = build_engine(f"sqlite:///{tmp_path / 'x.db'}")
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE contacts (value TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO contacts VALUES (:v)"), {"v": "+420777123456"})
            with pytest.raises(IntegrityError) as caught:
                await connection.execute(text("INSERT INTO contacts VALUES (:v)"), {"v": "+420777123456"})
        await engine.dispose()
        assert "777" not in str(caught.value)

    def test_ids_and_counts_are_left_alone(self) -> None:
        line = f"delivery {uuid4()} took 1250 ms on partition 3"
        assert redact(line) == line

    def test_a_validation_error_is_described_without_the_input(self) -> None:
        with pytest.raises(ValidationError) as caught:
            Contact.model_validate({"phone": "+420 777 123 456"})
        reason = describe(caught.value)
        assert "phone" in reason and "777" not in reason

    def test_only_safe_errors_keep_their_message(self) -> None:
        assert describe(SafeError("unknown address points: 1")) == "SafeError: unknown address points: 1"
        assert describe(KeyError("jana@example.cz")) == "KeyError"


class Settings(ServiceSettings):
    model_config = {"env_prefix": "TESTSVC_", "env_nested_delimiter": "__"}  # type: ignore[assignment]
    port: int = 1
    database_url: str = "sqlite:///x.db"


class TestSettings:
    def test_nested_kafka_settings_come_from_the_service_prefix(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TESTSVC_KAFKA__BOOTSTRAP_SERVERS", "kafka-1:9093,kafka-2:9093")
        monkeypatch.setenv("TESTSVC_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
        monkeypatch.setenv("TESTSVC_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
        monkeypatch.setenv("TESTSVC_KAFKA__SASL_USERNAME", "hlasatel")
        monkeypatch.setenv("TESTSVC_KAFKA__SASL_PASSWORD", "s3cret")
        kafka = Settings().kafka
        assert kafka.bootstrap_servers == "kafka-1:9093,kafka-2:9093"
        assert kafka.ssl_context() is not None
        assert "s3cret" not in repr(kafka)

    def test_sasl_without_credentials_refuses_to_start(self) -> None:
        with pytest.raises(ValidationError, match="sasl_username"):
            KafkaSettings(security_protocol="SASL_PLAINTEXT")

    def test_production_refuses_sqlite(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TESTSVC_ENVIRONMENT", "production")
        with pytest.raises(ValidationError, match="PostgreSQL"):
            Settings()

    def test_plain_database_urls_get_async_drivers(self) -> None:
        assert (
            async_url("postgresql://postgres@127.0.0.1:5432/test")
            == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
        assert async_url("sqlite:///var/registry.db") == "sqlite+aiosqlite:///var/registry.db"


class TestPostgresPlans:
    """On PostgreSQL every statement is planned for its own values: a plan made once, when a table was nearly
    empty, would scan the whole table for ever after (the composer's index loaded 17 times slower at
    100,000 subscribers)."""

    def test_a_batch_s_lookup_uses_the_index_after_the_table_has_grown(self, postgres_databases: Any) -> None:
        if not os.environ.get("DATABASE_URL"):
            pytest.skip("PostgreSQL only: DATABASE_URL names no server here (CI sets it)")
        asyncio.run(self._lookups_after_growth(postgres_databases.create()))

    @staticmethod
    async def _lookups_after_growth(url: str) -> None:
        engine = build_engine(url)
        lookup = text("SELECT v FROM grown WHERE id IN (:a, :b, :c)")
        try:
            async with engine.connect() as connection:
                await connection.execute(text("CREATE TABLE grown (id integer PRIMARY KEY, v integer)"))
                await connection.execute(text("INSERT INTO grown SELECT n, n FROM generate_series(1, 10) n"))
                await connection.execute(text("ANALYZE grown"))
                await connection.commit()
                for n in range(8):  # more than the five custom plans before PostgreSQL may settle on one
                    await connection.execute(lookup, {"a": n, "b": n + 1, "c": n + 2})
                await connection.execute(
                    text("INSERT INTO grown SELECT n, n FROM generate_series(11, 200000) n")
                )
                await connection.commit()
                before = await _sequential_scans(connection)
                for n in range(5):
                    await connection.execute(lookup, {"a": n, "b": 50_000 + n, "c": 150_000 + n})
                await connection.commit()
                assert await _sequential_scans(connection) == before
        finally:
            await engine.dispose()


async def _sequential_scans(connection: Any) -> int:
    await connection.execute(text("SELECT pg_stat_force_next_flush()"))
    await connection.commit()
    count = await connection.scalar(text("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'grown'"))
    await connection.commit()
    return int(count)
