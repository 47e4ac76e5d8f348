"""``hlasatel-dev run``: the whole system on this machine, on embedded defaults."""

import argparse
import json
import logging
import signal
import sys
import time
from pathlib import Path

from hlasatel_devstack.demo import DEMO_SUBSCRIBERS, register_demo_subscribers
from hlasatel_devstack.stack import SERVICES, WEB, Stack, StackConfig

ROOT = Path(__file__).resolve().parents[3]
GAZETTEER = ROOT / "data" / "ruian" / "20231231_OB_563889_ADR.csv"


def _banner(stack: Stack, started_s: float, imported: str) -> str:
    config = stack.config
    lines = [
        "",
        f"Hlasatel is up in {started_s:.1f} s.",
        f"Gazetteer: {_counts(imported)}; the composer knows every one of its address points.",
        f"{len(DEMO_SUBSCRIBERS)} demo subscribers registered, verified with the codes the fakes received;",
        f"their ids and access tokens are in {config.var_dir / 'demo-subscribers.json'}.",
        "The composer's API keys (editor, approver, admin, and the utilities' water and weather) and the",
        "registry's operator key (registry_operator) are in",
        f"{config.var_dir / 'dev-keys.json'};",
        "the staff's (an editor, an approver, an admin: e-mail, password, TOTP secret) are in",
        f"{config.var_dir / 'dev-staff.json'}.",
        f"Public alerts: {stack.url('composer')}/v1/public/feed.atom (Atom; entries link CAP 1.2).",
        "",
        f"  citizen's pages {stack.url('public-web')}/   (sign up, manage, what concerns my house)",
        f"  console         {stack.url('console')}/   (the press office: sign in as var/dev-staff.json says)",
        f"  composer        {stack.url('composer')}/docs   (press office and utilities API)",
        f"  registry        {stack.url('registry')}/docs   (citizens and addresses)",
    ]
    lines += [f"  {s:<15} {stack.url(s)}/readyz" for s in SERVICES[2:]]
    lines += [
        f"  broker          127.0.0.1:{config.ports.broker} (Tansu, in memory)",
        "",
        "  What the fakes received (one JSON object a line):",
        *(f"    {config.ledger_dir / name}" for name in ("sms.jsonl", "email.jsonl", "push.jsonl")),
        f"  Logs: {config.log_dir}",
        "",
        "The README's curl lines walk through a message to Masarykova. Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _counts(imported: str) -> str:
    """What the import changed: 'added 16140, updated 0, retired 0, unchanged 0'."""
    return next(line.split(": ", 1)[1] for line in imported.splitlines() if ": added " in line)


def run(var_dir: Path) -> None:
    started = time.monotonic()
    stack = Stack(StackConfig(var_dir=var_dir))
    # SIGTERM stops the stack the way Ctrl-C does; SIGINT too when a shell started us with it ignored.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print("starting the broker, the fakes, the services and the pages…", flush=True)
        stack.start(web=WEB)
        imported = stack.import_register(GAZETTEER)
        demo = register_demo_subscribers(stack.url("registry"), stack.config.ledger_dir)
        (stack.config.var_dir / "demo-subscribers.json").write_text(
            json.dumps(demo, indent=2), encoding="utf-8"
        )
        print(_banner(stack, time.monotonic() - started, imported), flush=True)
        while not (exited := [name for name, p in stack.processes.items() if p.poll() is not None]):
            time.sleep(1.0)
        print(f"{', '.join(exited)} exited; see the logs in {stack.config.log_dir}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", flush=True)
        stack.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hlasatel-dev", description="Hlasatel on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="start everything on embedded defaults")
    runner.add_argument("--var-dir", type=Path, default=ROOT / "var")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run(args.var_dir)
