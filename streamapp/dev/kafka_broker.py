"""The dev Kafka broker: Apache Kafka's own jars from Maven Central, run by the machine's Java.

No Docker engine runs on our machines, so the broker is a plain JVM process. Its jars are fetched
once into ``<cache>/kafka-<version>/libs``; its state (config, data, logs, pid) lives in
``<cache>/kafka/<port>`` so brokers on different ports never share files.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from streamapp.dev import kafka_config
from streamapp.dev.addresses import Address, controller_address, kafka_address
from streamapp.dev.errors import ServiceError, apt_hint
from streamapp.dev.probes import Probe, port_open, probe_kafka
from streamapp.dev.processes import log_tail, spawn_detached, tail
from streamapp.settings import Settings

# Kafka's start script uses 1 GB; a dev broker with a few topics is comfortable in less. Reserved
# at start, as the start script does, rather than grown under load.
JAVA_HEAP = ("-Xms768m", "-Xmx768m")
# The other performance options of Kafka's start script.
JAVA_OPTIONS = ("-XX:MaxInlineLevel=15", "-Djava.awt.headless=true")
MIN_JAVA_VERSION = 11


@dataclass(frozen=True)
class KafkaBroker:
    """A single-node KRaft broker on loopback, started and tracked by ``streamapp dev``."""

    address: Address
    cache_dir: Path
    partitions: int

    name = "Kafka"
    setting = "STREAMAPP_KAFKA_BOOTSTRAP"
    startup_timeout = 60.0
    stop_grace = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaBroker:
        """The broker the settings point at."""
        return cls(
            address=kafka_address(settings.kafka_bootstrap),
            cache_dir=settings.cache_dir.expanduser().resolve(),
            partitions=settings.topic_partitions,
        )

    @property
    def libs_dir(self) -> Path:
        """The broker's jars, shared by every port."""
        return self.cache_dir / f"kafka-{kafka_config.KAFKA_VERSION}" / "libs"

    @property
    def home(self) -> Path:
        """This broker's own files."""
        return self.cache_dir / "kafka" / str(self.address.port)

    @property
    def pid_file(self) -> Path:
        """Written when ``dev up`` starts the broker, removed by ``dev down``."""
        return self.home / "kafka.pid"

    @property
    def properties_file(self) -> Path:
        """``server.properties``; its path on the command line marks the process as ours."""
        return self.home / "server.properties"

    @property
    def marker(self) -> str:
        """Text in the broker's command line that proves a pid is this broker."""
        return str(self.properties_file)

    @property
    def log_files(self) -> tuple[Path, ...]:
        """Where the broker writes: warnings and errors (log4j), then raw stdout and stderr."""
        return self.home / "server.log", self.home / "console.log"

    def probe(self) -> Probe:
        """Whether a Kafka broker answers a metadata request at the address."""
        return probe_kafka(self.address)

    def prepare(self, console: Console) -> None:
        """Everything before the first start: Java, the jars, config files, formatted storage."""
        java = self._java_command(*self._java())
        self._fetch_jars(console)
        controller = controller_address(self.address)
        if port_open(controller):
            raise ServiceError(
                f"port {controller.port} on {controller.host} is taken, and the dev broker needs "
                f"it for its KRaft controller (the Kafka port + 1); free it or set {self.setting} "
                "to another port"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        data_dir = self.home / "data"
        self.properties_file.write_text(
            kafka_config.render_server_properties(
                self.address, controller, data_dir, self.partitions
            ),
            encoding="utf-8",
        )
        self._log4j_file.write_text(
            kafka_config.render_log4j_properties(self.log_files[0]), encoding="utf-8"
        )
        if not (data_dir / "meta.properties").exists():
            self._format(java, console)

    def launch(self) -> None:
        """Start the broker in the background; ``prepare`` must have run."""
        spawn_detached(
            [*self._java_command(*self._java()), "kafka.Kafka", str(self.properties_file)],
            log_file=self.log_files[1],
            pid_file=self.pid_file,
            cwd=self.home,
        )

    @property
    def _log4j_file(self) -> Path:
        return self.home / "log4j.properties"

    def _java_command(self, java: str, major: int | None) -> list[str]:
        return [
            java,
            *JAVA_HEAP,
            *kafka_config.gc_options(major),
            *JAVA_OPTIONS,
            "-cp",
            f"{self.libs_dir}/*",
            f"-Dlog4j.configuration={self._log4j_file.as_uri()}",
        ]

    def _java(self) -> tuple[str, int | None]:
        """The ``java`` on PATH and its major version (None when its output is not understood)."""
        java = shutil.which("java")
        if java is None:
            raise ServiceError(
                "Kafka needs Java 17, and `java` is not on PATH — install it: "
                f"{apt_hint('openjdk-17-jre-headless')}"
            )
        result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        major = kafka_config.java_major_version(result.stderr + result.stdout)
        if major is not None and major < MIN_JAVA_VERSION:
            raise ServiceError(
                f"Kafka {kafka_config.KAFKA_VERSION} needs Java {MIN_JAVA_VERSION} or newer, "
                f"`java` is Java {major} — install {apt_hint('openjdk-17-jre-headless')}"
            )
        return java, major

    def _fetch_jars(self, console: Console) -> None:
        complete = self.libs_dir / ".complete"
        if complete.exists():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServiceError(
                "the Kafka broker's jars come from Maven Central through Maven, and `mvn` is not "
                f"on PATH — install it: {apt_hint('maven')}"
            )
        project = self.libs_dir.parent
        project.mkdir(parents=True, exist_ok=True)
        (project / "pom.xml").write_text(kafka_config.render_pom(), encoding="utf-8")
        started = time.monotonic()
        version = kafka_config.KAFKA_VERSION
        with console.status(f"Kafka: fetching the Kafka {version} jars from Maven Central (once)"):
            result = subprocess.run(
                [mvn, "-q", "-B", "-f", str(project / "pom.xml"),
                 "dependency:copy-dependencies", f"-DoutputDirectory={self.libs_dir}",
                 "-DincludeScope=runtime"],
                cwd=project, capture_output=True, text=True, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise ServiceError(
                f"Maven could not fetch the Kafka {version} jars (exit {result.returncode}); "
                f"check the network and retry:\n{tail(result.stdout + result.stderr, 12)}"
            )
        jars = sorted(self.libs_dir.glob("*.jar"))
        complete.write_text("".join(f"{jar.name}\n" for jar in jars), encoding="utf-8")
        console.print(
            f"[green]✓[/] Kafka {version}: {len(jars)} jars in {self.libs_dir} "
            f"({time.monotonic() - started:.1f} s)"
        )

    def _format(self, java: list[str], console: Console) -> None:
        id_file = self.home / "cluster.id"
        if not id_file.exists():
            id_file.write_text(kafka_config.new_cluster_id() + "\n", encoding="ascii")
        cluster_id = id_file.read_text(encoding="ascii").strip()
        with console.status("Kafka: formatting the broker's storage"):
            result = subprocess.run(
                [*java, "kafka.tools.StorageTool", "format",
                 "-t", cluster_id, "-c", str(self.properties_file)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise ServiceError(
                f"formatting the Kafka storage in {self.home / 'data'} failed:\n"
                f"{tail(result.stdout + result.stderr)}\n{log_tail(self.log_files[0])}".rstrip()
            )
        console.print(f"[green]✓[/] Kafka storage formatted (cluster id {cluster_id})")
