"""All three fakes in one process: ``python -m hlasatel_devstack.fakes.server``."""

import argparse
import asyncio
import contextlib
import json
import logging
import signal
from pathlib import Path

import uvicorn

from hlasatel_devstack.fakes.fcm import fcm_app, write_service_account
from hlasatel_devstack.fakes.ledger import Ledger
from hlasatel_devstack.fakes.sms_gateway import sms_gateway_app
from hlasatel_devstack.fakes.smtp import smtp_server

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """Two servers share one process, so signals are handled once, for both, by serve()."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


SMS_ACCOUNT_SID = "AC" + "0" * 32
SMS_AUTH_TOKEN = "dev-token"


def credentials_path(ledger_dir: Path) -> Path:
    return ledger_dir / "fcm-service-account.json"


async def serve(ledger_dir: Path, *, sms_port: int, fcm_port: int, smtp_port: int) -> None:
    account_file = credentials_path(ledger_dir)
    token_uri = f"http://127.0.0.1:{fcm_port}/token"
    account = json.loads(account_file.read_text()) if account_file.exists() else {}
    if account.get("token_uri") != token_uri:
        account = write_service_account(account_file, token_uri=token_uri)
    smtp = smtp_server(ledger=Ledger(ledger_dir / "email.jsonl"), port=smtp_port)
    smtp.start()
    servers = [
        _QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
        for app, port in (
            (
                sms_gateway_app(
                    ledger=Ledger(ledger_dir / "sms.jsonl"),
                    account_sid=SMS_ACCOUNT_SID,
                    auth_token=SMS_AUTH_TOKEN,
                ),
                sms_port,
            ),
            (fcm_app(ledger=Ledger(ledger_dir / "push.jsonl"), service_account=account), fcm_port),
        )
    ]

    def exit_all() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, exit_all)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        smtp.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local fakes of the SMS gateway, SMTP relay and FCM.")
    parser.add_argument("--ledger-dir", type=Path, default=Path("var/fakes"))
    parser.add_argument("--sms-port", type=int, default=9101)
    parser.add_argument("--fcm-port", type=int, default=9102)
    parser.add_argument("--smtp-port", type=int, default=2525)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s fakes %(levelname)s %(name)s: %(message)s")
    asyncio.run(
        serve(args.ledger_dir, sms_port=args.sms_port, fcm_port=args.fcm_port, smtp_port=args.smtp_port)
    )


if __name__ == "__main__":
    main()
