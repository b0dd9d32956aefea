"""The files of the dev Kafka broker: pom, server.properties, log4j config, cluster id."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from pathlib import Path

from streamapp.dev.addresses import Address
from streamapp.dev.kafka_config import (
    KAFKA_VERSION,
    java_major_version,
    new_cluster_id,
    render_log4j_properties,
    render_pom,
    render_server_properties,
)

POM = "{http://maven.apache.org/POM/4.0.0}"


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_pom_lists_the_pinned_broker_and_its_log_binding() -> None:
    root = ET.fromstring(render_pom())
    dependencies = {
        (d.findtext(f"{POM}groupId"), d.findtext(f"{POM}artifactId")): d.findtext(f"{POM}version")
        for d in root.iter(f"{POM}dependency")
    }
    assert dependencies == {
        ("org.apache.kafka", "kafka_2.13"): KAFKA_VERSION,
        ("org.slf4j", "slf4j-reload4j"): "1.7.36",
    }
    assert KAFKA_VERSION == "3.9.1"  # 4.x dropped protocol versions aiokafka and Faust use
    assert root.findtext(f"{POM}packaging") == "pom"


def test_pom_pins_the_dependency_plugin() -> None:
    root = ET.fromstring(render_pom())
    plugin = next(root.iter(f"{POM}plugin"))
    assert plugin.findtext(f"{POM}artifactId") == "maven-dependency-plugin"
    assert plugin.findtext(f"{POM}version")


def test_server_properties_make_a_single_node_kraft_broker_on_loopback() -> None:
    text = render_server_properties(
        Address("127.0.0.1", 19092), Address("127.0.0.1", 19093), Path("/data/kafka"), 4
    )
    props = _properties(text)
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == "/data/kafka"
    assert props["num.partitions"] == "4"
    assert props["auto.create.topics.enable"] == "true"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for one_node in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ):
        assert props[one_node] == "1"


def test_log4j_writes_warnings_to_the_given_file() -> None:
    props = _properties(render_log4j_properties(Path("/logs/server.log")))
    assert props["log4j.rootLogger"] == "WARN, file"
    assert props["log4j.appender.file.File"] == "/logs/server.log"


def test_cluster_ids_are_16_random_bytes_in_unpadded_base64url() -> None:
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    for cluster_id in ids:
        assert len(cluster_id) == 22 and "=" not in cluster_id
        assert set(cluster_id) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_java_major_version_reads_old_and_new_formats() -> None:
    assert java_major_version('openjdk version "21" 2023-09-19') == 21
    assert java_major_version('openjdk version "17.0.15" 2025-04-15 LTS') == 17
    assert java_major_version('java version "1.8.0_392"') == 8
    assert java_major_version("") is None
