"""Starting aiokafka clients, and telling a broker that is absent from one that refused us.

aiokafka logs why each bootstrap connection failed and then raises a bare "Unable to bootstrap",
so a certificate nobody trusts or a wrong password would read as a missing broker. When a start
fails before its timeout, :func:`start_client` dials the first bootstrap server once more with
aiokafka's own connection code and the same security options, where the real exception
surfaces, and :func:`refusal` turns that into a message naming the settings to change.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import collect_hosts, create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    IllegalSaslStateError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.metadata import MetadataRequest

from streamapp.kafka import KafkaRejected, ServiceUnavailable

KafkaClient: TypeAlias = AIOKafkaProducer | AIOKafkaConsumer | AIOKafkaAdminClient

LOGIN_ERRORS = (AuthenticationFailedError, AuthenticationMethodNotSupported,
                SaslAuthenticationFailed, UnsupportedSaslMechanismError)
# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: the chain is trusted, the name dialled is not in it.
HOSTNAME_MISMATCH = 62
# The second look only has to reach the broker that just failed fast, not wait out a slow one.
DIAGNOSIS_TIMEOUT = 5.0
ANY_PROTOCOL = "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"


async def start_client(client: KafkaClient, bootstrap: str, security: Mapping[str, Any],
                       timeout: float) -> None:
    """Start ``client`` within ``timeout`` seconds, or close it and raise.

    Raises :class:`KafkaRejected` when the broker turned the client away (TLS, login, protocol)
    and :class:`ServiceUnavailable` when no broker answered.
    """
    try:
        async with asyncio.timeout(timeout):
            await client.start()
    except (KafkaError, OSError, TimeoutError) as error:
        await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())
        # A start that ran out of time met silence; asking again would only wait as long.
        rejected = None if isinstance(error, TimeoutError) else await diagnose(bootstrap, security)
        raise rejected or ServiceUnavailable.kafka(bootstrap, timeout) from None


async def diagnose(bootstrap: str, security: Mapping[str, Any]) -> KafkaRejected | None:
    """Why the first server of ``bootstrap`` turns a client with ``security`` away; None when
    it cannot be reached at all, or now accepts the client."""
    host, port, _ = collect_hosts(bootstrap, randomize=False)[0]
    connection = None
    try:
        async with asyncio.timeout(DIAGNOSIS_TIMEOUT):
            connection = await create_conn(host, port, request_timeout_ms=DIAGNOSIS_TIMEOUT * 1000,
                                           **security)
            # The same first request as aiokafka's bootstrap: a SASL listener lets a client
            # that skipped the login ask for API versions, and hangs up on this one.
            await connection.send(MetadataRequest([]))
    except (KafkaError, OSError, TimeoutError) as error:
        return refusal(error, bootstrap, security)
    finally:
        if connection is not None:
            connection.close()
    return None


def refusal(error: BaseException, bootstrap: str,
            security: Mapping[str, Any]) -> KafkaRejected | None:
    """The :class:`KafkaRejected` that ``error``, raised while connecting, stands for, if any.

    >>> cause = ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert "
    ...                         "certificate required (_ssl.c:2580)")
    >>> print(refusal(cause, "k:9093", {"security_protocol": "SSL"}))  # doctest: +ELLIPSIS
    Kafka at k:9093 ended the TLS handshake (tlsv13 alert certificate required) — ...
    >>> refusal(ConnectionRefusedError(111, "Connect call failed"), "k:9092", {}) is None
    True
    """
    protocol = security.get("security_protocol", "PLAINTEXT")
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _untrusted(bootstrap, cause)
        if isinstance(cause, ssl.SSLError):
            # OpenSSL sets the reason; an SSLError made elsewhere may lack it.
            if getattr(cause, "reason", None) == "WRONG_VERSION_NUMBER":  # a plaintext listener
                return _wrong_protocol(bootstrap, protocol)
            return KafkaRejected(
                f"Kafka at {bootstrap} ended the TLS handshake ({_ssl_reason(cause)}) — it wants "
                "a client certificate signed by a CA it trusts: set STREAMAPP_KAFKA_SSL_CERTFILE "
                "and STREAMAPP_KAFKA_SSL_KEYFILE, and check that STREAMAPP_KAFKA_SECURITY_PROTOCOL"
                f"={protocol} is that listener's protocol")
        # A listener without SASL answers the login's first step with this.
        if isinstance(cause, IllegalSaslStateError):
            return _wrong_protocol(bootstrap, protocol)
        if isinstance(cause, LOGIN_ERRORS):
            user = security.get("sasl_plain_username")
            return KafkaRejected(
                f"Kafka at {bootstrap} refused the login of {user!r} ({_kafka_reason(cause)}) — "
                "check STREAMAPP_KAFKA_SASL_USERNAME, STREAMAPP_KAFKA_SASL_PASSWORD and "
                f"STREAMAPP_KAFKA_SASL_MECHANISM={security.get('sasl_mechanism')}")
        # Hung up in the middle of the first exchange: each side speaks another protocol.
        if isinstance(cause, asyncio.IncompleteReadError | ConnectionResetError):
            return _wrong_protocol(bootstrap, protocol)
    return None


def _untrusted(bootstrap: str, error: ssl.SSLCertVerificationError) -> KafkaRejected:
    problem = (f"Kafka at {bootstrap} presented a certificate this client does not accept "
               f"({error.verify_message})")
    if error.verify_code == HOSTNAME_MISMATCH:
        return KafkaRejected(f"{problem} — set STREAMAPP_KAFKA_BOOTSTRAP to a host name the "
                             "broker's certificate holds")
    return KafkaRejected(f"{problem} — set STREAMAPP_KAFKA_SSL_CAFILE to the CA certificate "
                         "that signed the broker's certificate")


def _wrong_protocol(bootstrap: str, protocol: str) -> KafkaRejected:
    return KafkaRejected(
        f"Kafka at {bootstrap} does not take a client speaking {protocol} — set "
        f"STREAMAPP_KAFKA_SECURITY_PROTOCOL to the protocol of that listener ({ANY_PROTOCOL})")


def _causes(error: BaseException) -> Iterator[BaseException]:
    # aiokafka wraps the read side's error (a TLS alert arrives there) as the cause of its own.
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _ssl_reason(error: ssl.SSLError) -> str:
    """``"[SSL: X] x y (_ssl.c:2580)"`` without OpenSSL's code and source location.

    >>> _ssl_reason(ssl.SSLError(1, "[SSL: BAD] sslv3 alert bad certificate (_ssl.c:2580)"))
    'sslv3 alert bad certificate'
    """
    text = str(error.args[1] if len(error.args) > 1 else error)
    return re.sub(r"^\[[^]]*\]\s*|\s*\(_ssl\.c:\d+\)$", "", text) or str(error)


def _kafka_reason(error: KafkaError) -> str:
    # Broker errors carry the broker's text as their first argument, or only a class description.
    first = error.args[0] if error.args else None
    if isinstance(first, str) and first:
        return first
    return getattr(error, "description", "") or type(error).__name__
