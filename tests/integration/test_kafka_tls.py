"""Kafka over TLS: a real broker with an SSL listener that demands a client certificate and a
SASL_SSL listener that demands a password, a worker that connects through each, and clients
without the right trust that are turned away at once."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from streamapp.kafka import KafkaRejected
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import wait_for_kafka
from streamapp.settings import Settings
from tests.integration.conftest import Stack
from tests.integration.secure_broker import (
    USERS,
    BrokerTls,
    Protocol,
    SecureBroker,
    secure_broker,
    until_ready,
    worker_reaches_truth,
)

pytestmark = pytest.mark.integration
# P-256 keys are generated in milliseconds, and both Python's TLS and Kafka's JVM accept them.
NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
# Extensions as a real CA issues them: from Python 3.13 the default context verifies strictly
# (RFC 5280) and refuses, for one, a certificate without an authority key identifier.
LEAF_EXTENSIONS = ("subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                   "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n")
KEY_PASSWORD = "keystore-secret"
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Certificates:
    """A throwaway PKI: the CA, what the broker holds, a client's pair, and a CA nobody uses."""

    ca: Path
    broker: BrokerTls
    client_cert: Path
    client_key: Path
    stranger_ca: Path


def _openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True,
                   timeout=30)


def _authority(directory: Path, name: str) -> Path:
    _openssl(directory, "req", "-x509", *NEW_KEY, "-keyout", f"{name}.key",
             "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=streamapp test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return directory / f"{name}.pem"


def _issue(directory: Path, name: str, extensions: str) -> tuple[Path, Path]:
    """A certificate signed by the CA in ``directory``, and its unencrypted key."""
    (directory / f"{name}.ext").write_text(LEAF_EXTENSIONS + extensions)
    _openssl(directory, "req", "-new", *NEW_KEY, "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", f"/CN=streamapp test {name}")
    _openssl(directory, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem",
             "-CAkey", "ca.key", "-set_serial", str(time.time_ns()), "-days", "2",
             "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    return directory / f"{name}.pem", directory / f"{name}.key"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests make their certificates with `openssl`: install it")
    directory = tmp_path_factory.mktemp("pki")
    ca = _authority(directory, "ca")
    broker_cert, broker_key = _issue(
        directory, "broker", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                             "extendedKeyUsage=serverAuth,clientAuth\n")
    client_cert, client_key = _issue(directory, "client", "extendedKeyUsage=clientAuth\n")
    # Kafka decrypts the key with the JVM's own PBE ciphers, and Java 17 has none for PBES2,
    # OpenSSL's default: the older PKCS#5 v1.5 scheme is the one both sides share.
    _openssl(directory, "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", broker_key.name,
             "-out", "broker.p8", "-passout", f"pass:{KEY_PASSWORD}")
    keystore = directory / "broker-keystore.pem"
    keystore.write_text("".join(
        path.read_text() for path in (directory / "broker.p8", broker_cert, ca)))
    return Certificates(ca=ca, broker=BrokerTls(keystore, KEY_PASSWORD, truststore=ca),
                        client_cert=client_cert, client_key=client_key,
                        stranger_ca=_authority(directory, "stranger"))


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory,
               certificates: Certificates) -> Iterator[SecureBroker]:
    with secure_broker(tmp_path_factory.mktemp("broker"), ("SSL", "SASL_SSL"),
                       certificates.broker) as broker:
        yield broker


def _tls(certificates: Certificates, protocol: Protocol) -> dict[str, str]:
    env = {"STREAMAPP_KAFKA_SECURITY_PROTOCOL": protocol,
           "STREAMAPP_KAFKA_SSL_CAFILE": str(certificates.ca)}
    if protocol == "SSL":
        env.update(STREAMAPP_KAFKA_SSL_CERTFILE=str(certificates.client_cert),
                   STREAMAPP_KAFKA_SSL_KEYFILE=str(certificates.client_key))
    else:
        env.update(STREAMAPP_KAFKA_SASL_MECHANISM="PLAIN", STREAMAPP_KAFKA_SASL_USERNAME="app",
                   STREAMAPP_KAFKA_SASL_PASSWORD=USERS["app"])
    return env


@pytest.mark.parametrize(("protocol", "seed"), [("SSL", 3), ("SASL_SSL", 4)])
async def test_a_worker_connects_over_tls(
        protocol: Protocol, seed: int, tls_broker: SecureBroker, certificates: Certificates,
        stack: Stack, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    await worker_reaches_truth(stack, redis, monkeypatch, tls_broker.bootstrap(protocol),
                               _tls(certificates, protocol), seed=seed)


async def _refused(settings: Settings, says: str, **update: Any) -> None:
    """A producer and an admin client with ``update`` applied fail long before their timeout
    with a message that ``says`` what to fix: a TLS failure is final, so waiting for the broker
    to answer would only hide it, and "did not answer" would send the user the wrong way."""
    client = Settings(**{**settings.model_dump(), **update})
    started = time.monotonic()
    with pytest.raises(KafkaRejected, match=says):
        async with KafkaPublisher.from_settings(client, connect_timeout=CONNECT_TIMEOUT):
            pass
    with pytest.raises(KafkaRejected, match=says):
        await wait_for_kafka(client, timeout=CONNECT_TIMEOUT)
    assert time.monotonic() - started < CONNECT_TIMEOUT / 2


def _client(broker: SecureBroker, certificates: Certificates, protocol: Protocol) -> Settings:
    """The settings a well-configured client of ``protocol`` reads from its environment."""
    fields: dict[str, Any] = {name.removeprefix("STREAMAPP_").lower(): value
                              for name, value in _tls(certificates, protocol).items()}
    return Settings(_env_file=None, kafka_bootstrap=broker.bootstrap(protocol), **fields)


async def test_clients_without_the_right_trust_are_turned_away(
        tls_broker: SecureBroker, certificates: Certificates) -> None:
    mutual, sasl = (_client(tls_broker, certificates, protocol)
                    for protocol in ("SSL", "SASL_SSL"))
    for settings in (mutual, sasl):
        await until_ready(settings)
        await _refused(settings, "presented a certificate this client does not accept .*"
                                 "set STREAMAPP_KAFKA_SSL_CAFILE to the CA certificate",
                       kafka_ssl_cafile=certificates.stranger_ca)
    # The broker, not the client, ends this one: the listener requires a client certificate.
    await _refused(mutual, "ended the TLS handshake .* set STREAMAPP_KAFKA_SSL_CERTFILE and "
                           "STREAMAPP_KAFKA_SSL_KEYFILE",
                   kafka_ssl_certfile=None, kafka_ssl_keyfile=None)
    await _refused(sasl, "refused the login of 'app' .* STREAMAPP_KAFKA_SASL_PASSWORD",
                   kafka_sasl_password="wrong")
    await _refused(sasl, "does not take a client speaking SSL — set "
                         "STREAMAPP_KAFKA_SECURITY_PROTOCOL", kafka_security_protocol="SSL")
