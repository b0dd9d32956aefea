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
from typing import Any
from urllib.parse import urlsplit

from streamapp.core.ids import hash_customer_id
from streamapp.settings import Settings

__all__ = ["hash_customer_id"]



def _ssl_context(cafile: Any, certfile: Any, keyfile: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if certfile:
        context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
    return context


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for ``SSL`` and ``SASL_SSL``, None for the plaintext protocols."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    return _ssl_context(settings.kafka_ssl_cafile, settings.kafka_ssl_certfile,
                        settings.kafka_ssl_keyfile)


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
