"""The whole system on one machine: broker, fakes and the five services as separate processes."""

import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hlasatel_devstack.broker import EmbeddedBroker
from hlasatel_devstack.fakes.server import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, Faults, credentials_path
from hlasatel_devstack.ports import Ports, wait_for_port
from hlasatel_devstack.processes import die_with_parent

log = logging.getLogger(__name__)

SERVICES = ("registry", "composer", "dispatch-sms", "dispatch-email", "dispatch-push")
# the pages over the services' APIs: no database, no broker
WEB = ("console", "public-web")
# the citizen's pages call the registry from this loopback address, the only one whose X-Forwarded-For the
# registry believes: a client of the registry on 127.0.0.1 still cannot choose the address it is counted as
PUBLIC_WEB_SOURCE = "127.0.0.6"


@dataclass
class StackConfig:
    var_dir: Path
    ports: Ports = field(default_factory=Ports)
    # Service name → database URL; SQLite files under var_dir where absent.
    database_urls: dict[str, str] = field(default_factory=dict)
    # Small timeouts so that consumers join the embedded broker's groups in well under a second.
    session_timeout_ms: int = 2000
    heartbeat_interval_ms: int = 500
    # Added to every service's environment: a setting a test needs other than the default.
    environment: dict[str, str] = field(default_factory=dict)
    # How badly the provider fakes behave (the chaos tests')
    faults: Faults = field(default_factory=Faults)
    # the composer's key of role `registry`, made at start: a citizen's export asks the composer with it
    registry_key: str | None = None

    @property
    def ledger_dir(self) -> Path:
        return self.var_dir / "fakes"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    def database_url(self, service: str) -> str:
        return self.database_urls.get(service) or f"sqlite:///{self.var_dir / (service + '.db')}"


def _prefix(service: str) -> str:
    return service.upper().replace("-", "_") + "_"


# On PostgreSQL a service is a production deployment and refuses development defaults; this stack is one
# machine's loopback, so it allows them by name, as a private network would.
ON_LOOPBACK = ["development_secret", "sms_dev_token", "smtp_plaintext", "kafka_plaintext", "http_public_url"]


def service_environment(config: StackConfig, service: str) -> dict[str, str]:
    """The environment variables one service runs with in the stack."""
    ports = config.ports
    prefix = _prefix(service)
    env = {
        f"{prefix}PORT": str(getattr(ports, service.replace("-", "_"))),
        f"{prefix}DATABASE_URL": config.database_url(service),
        f"{prefix}KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{ports.broker}",
        f"{prefix}KAFKA__SESSION_TIMEOUT_MS": str(config.session_timeout_ms),
        f"{prefix}KAFKA__HEARTBEAT_INTERVAL_MS": str(config.heartbeat_interval_ms),
    }
    if service in WEB:
        port = getattr(ports, service.replace("-", "_"))
        web = {
            f"{prefix}PORT": str(port),
            f"{prefix}COMPOSER_URL": f"http://127.0.0.1:{ports.composer}",
            f"{prefix}REGISTRY_URL": f"http://127.0.0.1:{ports.registry}",
            f"{prefix}PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        if service == "public-web":
            web[f"{prefix}SOURCE_ADDRESS"] = PUBLIC_WEB_SOURCE
        return web | config.environment
    if not config.database_url(service).startswith("sqlite"):
        env[f"{prefix}ALLOW_INSECURE"] = ",".join(ON_LOOPBACK)
    env |= config.environment
    if service == "registry":
        env["REGISTRY_PUBLIC_URL"] = f"http://127.0.0.1:{ports.registry}"
        env["REGISTRY_PAGES_URL"] = f"http://127.0.0.1:{ports.public_web}"
        env.setdefault("REGISTRY_TRUSTED_PROXIES", PUBLIC_WEB_SOURCE)
        if config.registry_key:
            env["REGISTRY_COMPOSER_URL"] = f"http://127.0.0.1:{ports.composer}"
            env["REGISTRY_COMPOSER_KEY"] = config.registry_key
    elif service == "composer":
        env["COMPOSER_UNSUBSCRIBE_BASE_URL"] = f"http://127.0.0.1:{ports.public_web}"
        env["COMPOSER_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{ports.composer}"
    elif service == "dispatch-sms":
        env |= {
            "DISPATCH_SMS_ACCOUNTS__0__GATEWAY_URL": f"http://127.0.0.1:{ports.sms_gateway}",
            "DISPATCH_SMS_ACCOUNTS__0__ACCOUNT_SID": SMS_ACCOUNT_SID,
            "DISPATCH_SMS_ACCOUNTS__0__AUTH_TOKEN": SMS_AUTH_TOKEN,
            "DISPATCH_SMS_STATUS_CALLBACK_URL": f"http://127.0.0.1:{ports.dispatch_sms}/v1/callbacks/sms",
        }
    elif service == "dispatch-email":
        env |= {
            "DISPATCH_EMAIL_ACCOUNTS__0__SMTP_HOST": "127.0.0.1",
            "DISPATCH_EMAIL_ACCOUNTS__0__SMTP_PORT": str(ports.smtp),
        }
    elif service == "dispatch-push":
        env |= {
            "DISPATCH_PUSH_ACCOUNTS__0__CREDENTIALS_FILE": str(credentials_path(config.ledger_dir)),
            "DISPATCH_PUSH_ACCOUNTS__0__FCM_ENDPOINT": f"http://127.0.0.1:{ports.fcm}",
        }
    return env


def _output(service: str, command: "subprocess.Popen[str]", *, given: str | None = None) -> str:
    """What a console command printed (given this on its standard input), once it is done; its error
    output if it failed."""
    out, err = command.communicate(given, timeout=120)
    if command.returncode != 0:
        raise RuntimeError(f"a command of {service} failed: {err.strip()}")
    return out.strip()


def console_script(name: str) -> str:
    """A console script installed beside the running interpreter."""
    return str(Path(sys.executable).with_name(name))


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.broker = EmbeddedBroker(port=config.ports.broker, log_file=config.log_dir / "broker.log")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.keys: dict[str, str] = {}
        # the console's accounts per role: name, e-mail, role, password, and the TOTP secret once made
        self.staff: dict[str, dict[str, Any]] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self.config.ports, service.replace('-', '_'))}"

    def start(self, services: Sequence[str] = SERVICES, *, web: Sequence[str] = ()) -> None:
        """Start the broker, the fakes and the services (all five unless told) and the web pages asked for,
        and return once each answers ready."""
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.config.ledger_dir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        ports = self.config.ports
        self._spawn(
            "fakes",
            [
                sys.executable,
                "-m",
                "hlasatel_devstack.fakes.server",
                "--ledger-dir",
                str(self.config.ledger_dir),
                "--sms-port",
                str(ports.sms_gateway),
                "--fcm-port",
                str(ports.fcm),
                "--smtp-port",
                str(ports.smtp),
                *self.config.faults.arguments(),
            ],
            {},
        )
        for port in (ports.sms_gateway, ports.fcm, ports.smtp):
            wait_for_port(port)
        if "composer" in services:
            self.keys = self._dev_keys(services)
        for service in (*services, *web):
            self.start_service(service)
        for service in (*services, *web):
            self.wait_ready(service)

    def _dev_keys(self, services: Sequence[str]) -> dict[str, str]:
        """One composer API key per role, two utilities' (water, weather), the registry's own for exports
        and, with a registry, an operator's key: made with the services' own commands before they start
        (one process each, side by side: a command takes seconds to start), in var/dev-keys.json."""
        # the press office may send emergencies; of the utilities only the weather service, whose warnings
        # go to the whole city without an approver, as the city agreed with it
        wanted: dict[str, dict[str, Any]] = {
            "editor": {"name": "Dev Editor", "role": "editor", "emergency": True},
            "approver": {"name": "Dev Approver", "role": "approver", "emergency": True},
            "admin": {"name": "Dev Admin", "role": "admin", "emergency": True},
            "water": {"name": "Dev Water Company", "role": "utility", "categories": ["water"],
                      "pre_approved": ["water"]},
            "weather": {"name": "Dev ČHMÚ", "role": "utility", "categories": ["weather"],
                        "pre_approved": ["weather"], "emergency": True, "whole_city": True},
            "registry": {"name": "Registry (citizens' exports)", "role": "registry"},
        }  # fmt: skip
        spec = self.config.var_dir / "dev-keys-wanted.json"
        spec.write_text(json.dumps(list(wanted.values())), encoding="utf-8")
        composer = self._cli("composer", "create-keys", str(spec))
        people = self._cli("composer", "create-staff", "-")
        operator = (
            self._cli("registry", "create-operator-key", "--name", "Dev Operator (front desk)")
            if "registry" in services
            else None
        )
        keys = dict(zip(wanted, json.loads(_output("composer", composer)), strict=True))
        spec.unlink()
        staff = json.dumps(list(self._dev_staff().values()))
        self._write_dev_staff(json.loads(_output("composer", people, given=staff)))
        self.config.registry_key = keys.pop("registry")
        if operator is not None:
            keys["registry_operator"] = _output("registry", operator)
        path = self.config.var_dir / "dev-keys.json"
        path.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)
        return keys

    def _dev_staff(self) -> dict[str, dict[str, Any]]:
        """A member of the staff per role, each with a new password every start."""
        if not self.staff:
            self.staff = {
                role: {
                    "name": name,
                    "email": f"{role}@example.cz",
                    "role": role,
                    "password": secrets.token_urlsafe(12),
                }
                for role, name in (
                    ("editor", "Eva Editorová"),
                    ("approver", "Adam Schvalovatel"),
                    ("admin", "Dana Správcová"),
                )
            }
        return self.staff

    def _write_dev_staff(self, totp_secrets: list[str]) -> None:
        """var/dev-staff.json: each role's e-mail, password and TOTP secret, for signing in to the console."""
        for person, secret in zip(self.staff.values(), totp_secrets, strict=True):
            person["totp_secret"] = secret
        shown = {
            role: {"email": p["email"], "password": p["password"], "totp_secret": p["totp_secret"]}
            for role, p in self.staff.items()
        }
        path = self.config.var_dir / "dev-staff.json"
        path.write_text(json.dumps(shown, indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)

    def _cli(self, service: str, *args: str) -> subprocess.Popen[str]:
        """One of a service's console commands, started with the stack's environment."""
        return subprocess.Popen(
            [console_script(service), *args],
            env=os.environ | service_environment(self.config, service),
            stdin=subprocess.PIPE if "-" in args else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def start_service(self, service: str) -> None:
        self._spawn(service, [console_script(service), "serve"], service_environment(self.config, service))

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        with (self.config.log_dir / f"{name}.log").open("ab") as out:
            self.processes[name] = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=os.environ | env,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def wait_ready(self, service: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with {process.returncode}; see {self.config.log_dir}/{service}.log"
                )
            try:
                if httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(
            f"{service} not ready after {timeout_s:.0f} s; see {self.config.log_dir}/{service}.log"
        )

    def register_points(self) -> int | None:
        """How many live address points of the register the composer has, from its metrics."""
        try:
            text = httpx.get(f"{self.url('composer')}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        found = re.search(r"^hlasatel_composer_register_points (\S+)$", text, re.MULTILINE)
        return int(float(found[1])) if found else None

    def wait_for_register(self, count: int, timeout_s: float = 120.0) -> None:
        """Return once the composer has every address point an import put on the register topic."""
        deadline = time.monotonic() + timeout_s
        while (known := self.register_points()) != count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the composer knows {known} address points of the register, not {count}, after "
                    f"{timeout_s:.0f} s; see {self.config.log_dir}/composer.log"
                )
            time.sleep(0.2)

    def import_register(self, path: Path) -> str:
        """Import an RÚIAN file into the registry and wait until the composer has its address points;
        returns what the import said."""
        said = self.run_cli("registry", "import-addresses", str(path))
        found = re.search(r": (\d+) address points in \d+ districts", said)
        if found is None:
            raise RuntimeError(f"the import did not say how many address points it read: {said}")
        self.wait_for_register(int(found[1]))
        return said

    def run_cli(self, service: str, *args: str) -> str:
        """Run one of a service's console commands with the stack's environment."""
        result = subprocess.run(
            [console_script(service), *args],
            env=os.environ | service_environment(self.config, service),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{service} {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def stop_service(
        self, service: str, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 20.0
    ) -> int:
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return process.returncode if process else 0
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def stop(self) -> None:
        """SIGTERM the services (they drain), then the fakes, then the broker."""
        for service in (*WEB, *reversed(SERVICES)):
            self.stop_service(service)
        self.stop_service("fakes")
        self.broker.stop()
