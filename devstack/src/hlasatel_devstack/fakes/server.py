"""All three fakes in one process: ``python -m hlasatel_devstack.fakes.server``."""

import argparse
import asyncio
import contextlib
import json
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from hlasatel_devstack.fakes import fcm, sms_gateway, smtp
from hlasatel_devstack.fakes.fcm import fcm_app, write_service_account
from hlasatel_devstack.fakes.ledger import Ledger
from hlasatel_devstack.fakes.sms_gateway import sms_gateway_app
from hlasatel_devstack.fakes.smtp import LedgerHandler, smtp_server

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """Two servers share one process, so signals are handled once, for both, by serve()."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


SMS_ACCOUNT_SID = "AC" + "0" * 32
SMS_AUTH_TOKEN = "dev-token"


def credentials_path(ledger_dir: Path) -> Path:
    return ledger_dir / "fcm-service-account.json"


@dataclass(frozen=True)
class Faults:
    """How badly all three fakes behave from the start: a share of messages refused with a transient error
    (HTTP 503, SMTP 451), and a share taken but answered `stall_ms` late, past the clients' timeouts."""

    fail_rate: float = 0.0
    stall_rate: float = 0.0
    stall_ms: int = 0

    def arguments(self) -> list[str]:
        """The fakes server's command-line options for these faults."""
        return [
            *("--fail-rate", str(self.fail_rate)),
            *("--stall-rate", str(self.stall_rate)),
            *("--stall-ms", str(self.stall_ms)),
        ]

    def apply(self, sms: sms_gateway.Behaviour, push: fcm.Behaviour, mail: smtp.Behaviour) -> None:
        for behaviour in (sms, push, mail):
            behaviour.fail_rate, behaviour.stall_rate = self.fail_rate, self.stall_rate
            behaviour.stall_ms = self.stall_ms
        sms.fail_status = push.fail_status = 503
        mail.fail_reply = "451 4.3.0 Try again later"


NO_FAULTS = Faults()


async def serve(
    ledger_dir: Path, *, sms_port: int, fcm_port: int, smtp_port: int, faults: Faults = NO_FAULTS
) -> None:
    account_file = credentials_path(ledger_dir)
    token_uri = f"http://127.0.0.1:{fcm_port}/token"
    account = json.loads(account_file.read_text()) if account_file.exists() else {}
    if account.get("token_uri") != token_uri:
        account = write_service_account(account_file, token_uri=token_uri)
    mail = LedgerHandler(Ledger(ledger_dir / "email.jsonl"))
    sms_behaviour, push_behaviour = sms_gateway.Behaviour(), fcm.Behaviour()
    if faults != NO_FAULTS:
        faults.apply(sms_behaviour, push_behaviour, mail.behaviour)
    smtp_fake = smtp_server(ledger=mail.ledger, port=smtp_port, handler=mail)
    smtp_fake.start()
    servers = [
        _QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
        for app, port in (
            (
                sms_gateway_app(
                    ledger=Ledger(ledger_dir / "sms.jsonl"),
                    account_sid=SMS_ACCOUNT_SID,
                    auth_token=SMS_AUTH_TOKEN,
                    behaviour=sms_behaviour,
                ),
                sms_port,
            ),
            (
                fcm_app(
                    ledger=Ledger(ledger_dir / "push.jsonl"),
                    service_account=account,
                    behaviour=push_behaviour,
                ),
                fcm_port,
            ),
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
        smtp_fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local fakes of the SMS gateway, SMTP relay and FCM.")
    parser.add_argument("--ledger-dir", type=Path, default=Path("var/fakes"))
    parser.add_argument("--sms-port", type=int, default=9101)
    parser.add_argument("--fcm-port", type=int, default=9102)
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of messages refused (503, 451)")
    parser.add_argument("--stall-rate", type=float, default=0.0, help="share of messages answered late")
    parser.add_argument("--stall-ms", type=int, default=0, help="how late a stalled answer comes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s fakes %(levelname)s %(name)s: %(message)s")
    asyncio.run(
        serve(
            args.ledger_dir,
            sms_port=args.sms_port,
            fcm_port=args.fcm_port,
            smtp_port=args.smtp_port,
            faults=Faults(args.fail_rate, args.stall_rate, args.stall_ms),
        )
    )


if __name__ == "__main__":
    main()
