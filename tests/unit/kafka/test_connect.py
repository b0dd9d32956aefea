"""Why a Kafka client could not start: a broker that turned it away (TLS, login, protocol) is
named with the settings to change and not waited for; a closed port stays "did not answer"."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import (
    IllegalSaslStateError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
)

from streamapp.kafka import KafkaRejected, ServiceUnavailable
from streamapp.kafka.connect import refusal
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import wait_for_kafka
from streamapp.settings import Settings

SSL_CLIENT = {"security_protocol": "SSL"}


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code, error.verify_message = code, message
    return error


def _closed_by(cause: BaseException) -> KafkaConnectionError:
    """aiokafka's error when the read side failed: the real reason is only its cause."""
    error = KafkaConnectionError("Connection at k:9093 closed")
    error.__cause__ = cause
    return error


def test_an_untrusted_broker_certificate_names_the_ca_setting() -> None:
    rejected = refusal(_verify_error(19, "self-signed certificate in certificate chain"),
                       "k:9093", SSL_CLIENT)
    assert isinstance(rejected, KafkaRejected)
    assert "self-signed certificate" in str(rejected)
    assert "set STREAMAPP_KAFKA_SSL_CAFILE to the CA certificate" in str(rejected)


def test_a_certificate_for_another_name_names_the_bootstrap_setting() -> None:
    rejected = refusal(_verify_error(62, "Hostname mismatch, certificate is not valid for 'k'."),
                       "k:9093", SSL_CLIENT)
    assert "set STREAMAPP_KAFKA_BOOTSTRAP to a host name" in str(rejected)


def test_a_broker_that_wants_a_client_certificate_names_the_certificate_settings() -> None:
    alert = ssl.SSLError(1, "[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate "
                            "(_ssl.c:2580)")
    message = str(refusal(_closed_by(alert), "k:9093", SSL_CLIENT))
    assert message.startswith("Kafka at k:9093 ended the TLS handshake "
                              "(sslv3 alert bad certificate) — ")
    assert "STREAMAPP_KAFKA_SSL_CERTFILE and STREAMAPP_KAFKA_SSL_KEYFILE" in message
    assert "STREAMAPP_KAFKA_SECURITY_PROTOCOL=SSL" in message


def test_a_refused_login_names_the_sasl_settings_but_not_the_password() -> None:
    security = {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
                "sasl_plain_username": "app", "sasl_plain_password": "hunter2"}
    failed = SaslAuthenticationFailed("Authentication failed: Invalid username or password")
    message = str(refusal(failed, "k:9094", security))
    assert "refused the login of 'app' (Authentication failed: Invalid username" in message
    assert "STREAMAPP_KAFKA_SASL_PASSWORD" in message and "hunter2" not in message


@pytest.mark.parametrize("cause", [asyncio.IncompleteReadError(b"", 4), ConnectionResetError(),
                                   IllegalSaslStateError("Request is not valid given the "
                                                         "current SASL state."),
                                   ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version "
                                                   "number (_ssl.c:1006)")])
def test_a_listener_of_another_protocol_names_the_protocol_setting(cause: Exception) -> None:
    if isinstance(cause, ssl.SSLError):
        cause.reason = "WRONG_VERSION_NUMBER"  # set by OpenSSL, not by the constructor
    message = str(refusal(_closed_by(cause), "k:9092", {"security_protocol": "SASL_SSL"}))
    assert "does not take a client speaking SASL_SSL — set STREAMAPP_KAFKA_SECURITY_PROTOCOL" in (
        message)


def test_a_refused_or_silent_address_is_no_refusal() -> None:
    assert refusal(ConnectionRefusedError(111, "Connect call failed"), "k:9092", {}) is None
    assert refusal(TimeoutError(), "k:9092", {}) is None


@pytest.fixture
async def hangs_up() -> AsyncIterator[str]:
    """The address of a server that closes every connection at once, as a TLS listener does to
    a plaintext client."""
    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(close, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    async with server:
        yield f"{host}:{port}"


async def test_the_admin_client_does_not_wait_out_a_broker_that_turned_it_away(
        hangs_up: str) -> None:
    started = time.monotonic()
    with pytest.raises(KafkaRejected, match="STREAMAPP_KAFKA_SECURITY_PROTOCOL"):
        await wait_for_kafka(Settings(_env_file=None, kafka_bootstrap=hangs_up), timeout=10)
    assert time.monotonic() - started < 2


async def test_a_closed_port_still_did_not_answer(unused_tcp_port: int) -> None:
    address = f"127.0.0.1:{unused_tcp_port}"
    with pytest.raises(ServiceUnavailable, match="did not answer") as raised:
        async with KafkaPublisher(address, connect_timeout=2):
            pass
    assert not isinstance(raised.value, KafkaRejected)
