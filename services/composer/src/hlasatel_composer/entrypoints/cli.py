"""``composer serve``, ``composer create-key --name NAME --role ROLE [--categories ...]``,
``composer create-keys FILE`` and ``composer create-staff FILE``."""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import TypeAdapter

from hlasatel_composer.adapters.orm import Base
from hlasatel_composer.config import Settings
from hlasatel_composer.domain.access import Role
from hlasatel_composer.handlers.keys import bootstrap_key
from hlasatel_composer.handlers.staff import create_signed_up
from hlasatel_composer.schemas import ApiKeyCreate
from hlasatel_composer.staff_schemas import StaffSetUp
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.logs import configure_logging
from hlasatel_runtime.service import serve


async def create_keys(settings: Settings, *, made: list[ApiKeyCreate]) -> list[str]:
    """Keys made where there is no admin yet: the first admin's, or a deployment's own; in the order
    given, in one transaction."""
    engine = build_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with session_factory(engine)() as session, session.begin():
            return [
                await bootstrap_key(session, name=data.name, role=data.role, scope=data.scope())
                for data in made
            ]
    finally:
        await engine.dispose()


async def create_staff(settings: Settings, *, made: list[StaffSetUp]) -> list[str]:
    """Staff with a password and a second factor set up, where nobody can invite them yet (a deployment's
    first admin, a laptop's accounts); one already there gets the new password and a new second factor.
    Returns each one's TOTP secret, in the order given."""
    engine = build_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with session_factory(engine)() as session, session.begin():
            return [
                await create_signed_up(
                    session,
                    settings.keys(),
                    data=data,
                    password=data.password.get_secret_value(),
                    created_by="composer create-staff",
                )
                for data in made
            ]
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="composer", description="Hlasatel composer.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API, the fan-out and the consumers")
    maker = commands.add_parser("create-key", help="make an API key and print it (it is stored hashed)")
    maker.add_argument("--name", required=True, help="who holds it, e.g. 'Jana Nováková' or 'water company'")
    maker.add_argument("--role", required=True, choices=[role.value for role in Role])
    maker.add_argument("--categories", nargs="+", help="only these categories (every one when absent)")
    maker.add_argument("--pre-approved", nargs="+", default=[], help="categories sent without an approver")
    maker.add_argument("--rate-limit", type=int, help="requests a minute (60 for a utility when absent)")
    maker.add_argument("--emergency", action="store_true", help="may send emergencies")
    maker.add_argument(
        "--whole-city",
        action="store_true",
        help="its pre-approved alerts go out without an approver above the four-eyes threshold too",
    )
    maker.add_argument("--cap-senders", nargs="+", help="the CAP <sender> values it speaks for")
    several = commands.add_parser(
        "create-keys", help="make the keys a JSON file lists (each as POST /v1/keys takes it); print them"
    )
    several.add_argument("file", type=Path, help="a JSON list; '-' reads standard input")
    people = commands.add_parser(
        "create-staff",
        help="set up the staff a JSON file lists (name, email, role, password, and a scope as POST /v1/staff "
        "takes it), second factor included, and print their TOTP secrets as a JSON list",
    )
    people.add_argument("file", type=Path, help="a JSON list; '-' reads standard input")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging("composer", settings.log_level)
    if args.command == "serve":
        from hlasatel_composer.bootstrap import bootstrap

        serve(bootstrap(settings), settings)
        return
    if args.command == "create-staff":
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
        staff = TypeAdapter(list[StaffSetUp]).validate_json(text)
        print(json.dumps(asyncio.run(create_staff(settings, made=staff))))
        return
    if args.command == "create-keys":
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
        made = TypeAdapter(list[ApiKeyCreate]).validate_json(text)
        print(json.dumps(asyncio.run(create_keys(settings, made=made))))
        return
    data = ApiKeyCreate(
        name=args.name,
        role=Role(args.role),
        categories=args.categories,
        pre_approved=args.pre_approved,
        rate_limit_per_minute=args.rate_limit,
        emergency=args.emergency,
        whole_city=args.whole_city,
        cap_senders=args.cap_senders,
    )
    print(asyncio.run(create_keys(settings, made=[data]))[0])
