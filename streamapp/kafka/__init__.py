"""Kafka adapters: creating topics and publishing records.

Only this package talks to Kafka on the producing side; commands catch :class:`ServiceUnavailable`
and show its message, which already says what to do.

>>> message = str(ServiceUnavailable.kafka("127.0.0.1:9092", 10.0))
>>> problem, remedy = message.split(" — ")
>>> problem
'Kafka at 127.0.0.1:9092 did not answer within 10 s'
>>> remedy
'run `streamapp dev up` or set STREAMAPP_KAFKA_BOOTSTRAP'
"""

from __future__ import annotations

import logging

# aiokafka logs every refused connection at ERROR; with no logging configured (a plain command
# line run) Python would print those lines raw beside our one-line error. A NullHandler only
# stops that last-resort printing: configured logging (the worker's) still receives them.
logging.getLogger("aiokafka").addHandler(logging.NullHandler())


class ServiceUnavailable(RuntimeError):
    """A service streamapp needs did not answer; the message tells the user how to fix it."""

    @classmethod
    def kafka(cls, bootstrap: str, timeout: float) -> ServiceUnavailable:
        """The error for a Kafka cluster at ``bootstrap`` that stayed silent for ``timeout`` s.

        >>> "0.5 s" in str(ServiceUnavailable.kafka("k:9092", 0.5))
        True
        """
        return cls(
            f"Kafka at {bootstrap} did not answer within {timeout:g} s — "
            "run `streamapp dev up` or set STREAMAPP_KAFKA_BOOTSTRAP"
        )


class KafkaRejected(ServiceUnavailable):
    """Kafka answered and turned the client away (TLS, login, security protocol).

    Only a change of settings helps, so whoever retries a :class:`ServiceUnavailable` gives up
    on this one at once; the message names the settings to change.
    """


__all__ = ["KafkaRejected", "ServiceUnavailable"]
