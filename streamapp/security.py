"""From the security settings to client arguments: Kafka SSL/SASL, Redis ACL and TLS, id hashing.

One home for these translations, so the worker, the commands and the tests connect the same way.
Secrets leave their ``SecretStr`` only here, on their way into a client.

>>> s = Settings(_env_file=None, kafka_security_protocol="SASL_PLAINTEXT",
...              kafka_sasl_username="app", kafka_sasl_password="pw")
>>> kw = kafka_client_kwargs(s)
>>> kw["security_protocol"], kw["sasl_mechanism"], kw["sasl_plain_username"]
('SASL_PLAINTEXT', 'PLAIN', 'app')
>>> kafka_client_kwargs(Settings(_env_file=None))
{'security_protocol': 'PLAINTEXT'}
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamapp.core.ids import hash_customer_id
from streamapp.settings import Settings

__all__ = ["SecuritySettingsError", "hash_customer_id"]


class SecuritySettingsError(ValueError):
    """A security setting names a file or key that cannot serve; the message says which
    setting to fix, so commands show it as it is instead of a stack trace."""


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for ``SSL`` and ``SASL_SSL``, None for the plaintext protocols.

    The broker's certificate must chain to ``kafka_ssl_cafile`` (the system's CAs when unset)
    and name the host the client dialled; a client certificate, when set, is presented for
    mutual TLS. Files that cannot serve raise :class:`SecuritySettingsError` saying which
    setting to fix.

    >>> context = kafka_ssl_context(Settings(_env_file=None, kafka_security_protocol="SSL"))
    >>> context.check_hostname, context.verify_mode == ssl.CERT_REQUIRED
    (True, True)
    >>> kafka_ssl_context(Settings(_env_file=None, kafka_security_protocol="SASL_SSL",
    ...                            kafka_ssl_keyfile="client.key"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    streamapp.security.SecuritySettingsError: STREAMAPP_KAFKA_SSL_KEYFILE is set without ...
    """
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    cafile, certfile, keyfile = (settings.kafka_ssl_cafile, settings.kafka_ssl_certfile,
                                 settings.kafka_ssl_keyfile)
    if keyfile and not certfile:
        raise SecuritySettingsError("STREAMAPP_KAFKA_SSL_KEYFILE is set without "
                         "STREAMAPP_KAFKA_SSL_CERTFILE: set both for mutual TLS, or neither")
    try:
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except OSError as error:
        raise SecuritySettingsError(
            f"STREAMAPP_KAFKA_SSL_CAFILE={cafile} cannot be used: {error.strerror or error}; "
            "it must hold PEM certificates") from None
    if certfile:
        _load_client_certificate(context, certfile, keyfile)
    return context


def _load_client_certificate(context: ssl.SSLContext, certfile: Path,
                             keyfile: Path | None) -> None:
    def no_pass_phrase() -> str:
        # Without a callback OpenSSL asks for the pass phrase on the terminal: a worker started
        # from a shell would wait there unseen, one without a terminal fails with "Invalid
        # argument". There is no setting for a key password, so say what to do instead.
        raise SecuritySettingsError(f"the Kafka client key {keyfile or certfile} is encrypted: "
                                    "point STREAMAPP_KAFKA_SSL_KEYFILE at an unencrypted PEM key")

    try:
        context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None,
                                password=no_pass_phrase)
    except OSError as error:  # ssl.SSLError is one; its text ("PEM lib") names no file
        raise SecuritySettingsError(
            f"STREAMAPP_KAFKA_SSL_CERTFILE={certfile} with STREAMAPP_KAFKA_SSL_KEYFILE="
            f"{keyfile or certfile} cannot be used: {error.strerror or error}; they must be a PEM "
            "certificate and its own unencrypted PEM key") from None


def kafka_client_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producers, consumers and admin clients."""
    protocol = settings.kafka_security_protocol
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    context = kafka_ssl_context(settings)
    if context is not None:
        kwargs["ssl_context"] = context
    if protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        kwargs.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=password.get_secret_value() if password else None,
        )
    return kwargs


def faust_credentials(settings: Settings) -> Any:
    """Faust's ``broker_credentials`` for the settings, or None for plaintext."""
    import faust  # here: faust is slow to import and only the worker needs it

    protocol = settings.kafka_security_protocol
    context = kafka_ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if protocol.startswith("SASL"):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            ssl_context=context, mechanism=settings.kafka_sasl_mechanism,
        )
    return None


def redis_client_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Redis.from_url`` beyond the URL: ACL user, password, TLS files.

    >>> redis_client_kwargs(Settings(_env_file=None, redis_username="worker",
    ...                              redis_password="pw"))
    {'username': 'worker', 'password': 'pw'}
    >>> sorted(redis_client_kwargs(Settings(_env_file=None, redis_url="rediss://h:6380/0",
    ...                                     redis_tls_cafile="ca.pem")))
    ['ssl_ca_certs', 'ssl_cert_reqs']
    """
    kwargs: dict[str, Any] = {}
    if settings.redis_username:
        kwargs["username"] = settings.redis_username
    if settings.redis_password is not None:
        kwargs["password"] = settings.redis_password.get_secret_value()
    # TLS options are only accepted by rediss:// connections; redis-py rejects them otherwise.
    if urlsplit(settings.redis_dsn).scheme == "rediss":
        if settings.redis_tls_cafile:
            kwargs["ssl_ca_certs"] = str(settings.redis_tls_cafile)
            kwargs["ssl_cert_reqs"] = "required"
        if settings.redis_tls_certfile:
            kwargs["ssl_certfile"] = str(settings.redis_tls_certfile)
        if settings.redis_tls_keyfile:
            kwargs["ssl_keyfile"] = str(settings.redis_tls_keyfile)
    return kwargs
