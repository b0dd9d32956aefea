"""Every setting of streamapp, in one place, read from ``STREAMAPP_*`` environment variables.

The names are flat (``STREAMAPP_KAFKA_BOOTSTRAP``, ``STREAMAPP_REDIS_URL``) because that is the
contract operators script against; the groups show in the prefixes. Settings are frozen: a worker
reads them once at start.

>>> defaults = {name: f.default for name, f in Settings.model_fields.items()}
>>> defaults["kafka_bootstrap"], defaults["events_topic"], defaults["web_port"]
('127.0.0.1:9092', 'customer-events', 6066)
>>> "t0p-s3cr3t" in repr(Settings(api_token="t0p-s3cr3t"))
False
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamapp.core.ids import hash_customer_id


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "streamapp"


class Settings(BaseSettings):
    """streamapp's configuration; every field maps to ``STREAMAPP_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(env_prefix="STREAMAPP_", frozen=True, extra="ignore")

    # Services
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis URL; may carry a password, so it is never printed",
    )
    app_id: str = Field("streamapp", description="Faust app id and Kafka consumer group")
    redis_prefix: str = Field(
        "streamapp", pattern=r"^[^{}]+$",
        description="prefix of every Redis key streamapp writes; keys are named {prefix}:...",
    )
    redis_cluster: bool = Field(
        False, description="STREAMAPP_REDIS_URL names a node of a Redis Cluster: use a "
        "cluster client, which finds the other nodes from it",
    )

    # Topics
    events_topic: str = Field("customer-events", description="input: Segment-spec events")
    changes_topic: str = Field("segment-changes", description="output: change events")
    dlq_topic: str = Field("customer-events-dlq", description="rejected input with reasons")
    topic_partitions: int = Field(4, ge=1, description="partitions when streamapp creates topics")

    # Processing
    batch_size: int = Field(1000, ge=1, description="most events taken per batch")
    batch_window: float = Field(
        0.005, gt=0, description="seconds an idle worker waits, after the first event arrives, "
        "for more to join its batch; events that arrived while a batch was processed are taken "
        "at once")
    max_event_bytes: int = Field(65536, ge=256, description="larger payloads go to the DLQ")
    clock: Literal["event", "wall"] = Field(
        "event", description="'event': now is the newest event time seen; 'wall': the system clock"
    )
    dedupe_window: int = Field(
        8, ge=1, le=64, description="recent messageIds remembered per customer for producer retries"
    )

    # Model
    n_segments: int = Field(6, ge=2, le=32, description="number of behavioural segments")
    model_seed: int = Field(42, description="seed of the model's k-means++ warm start")
    model_halflife: float = Field(
        50_000.0, gt=0, description="events after which an old point weighs half as much"
    )
    switch_margin: float = Field(
        0.1, ge=0, description="a customer moves only when the new centre is this much closer"
    )
    model_kind: Literal["minibatch", "river-kmeans", "dbstream"] = Field(
        "minibatch",
        description="'minibatch' (shared by all workers), or River's 'river-kmeans' or "
        "'dbstream' (each worker learns its own)",
    )
    segment_names: dict[str, str] = Field(
        default_factory=dict,
        description='names that replace the derived ones, as JSON: {"seg-3": "VIP"}',
    )

    # Audiences
    audiences_file: Path | None = Field(
        None, description="YAML file of rule-based audiences (see audiences.example.yaml); "
        "re-read when it changes"
    )
    due_interval: float = Field(
        1.0, gt=0, description="seconds between looks for customers whom time moved"
    )
    due_batch: int = Field(500, ge=1, description="most such customers handled per look")

    # Web server of the worker
    web_host: str = Field("127.0.0.1", description="address the worker's web server binds")
    web_port: int = Field(6066, ge=1, le=65535, description="port of the worker's web server")
    api_token: SecretStr | None = Field(None, description="bearer token required by the HTTP API")

    # Local services for development
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="jars, data, logs")

    # Security (streamapp/security.py turns these into client arguments; see README)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="how clients talk to Kafka"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism for SASL_PLAINTEXT and SASL_SSL"
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers")
    kafka_ssl_certfile: Path | None = Field(None, description="client certificate (mutual TLS)")
    kafka_ssl_keyfile: Path | None = Field(None, description="client key (mutual TLS)")
    redis_username: str | None = Field(None, description="Redis ACL user (overrides the URL's)")
    redis_password: SecretStr | None = Field(None, description="Redis password (beats the URL's)")
    redis_tls_cafile: Path | None = Field(None, description="CA bundle for rediss:// URLs")
    redis_tls_certfile: Path | None = Field(None, description="client certificate for Redis TLS")
    redis_tls_keyfile: Path | None = Field(None, description="client key for Redis TLS")
    customer_id_salt: SecretStr = Field(
        SecretStr(""), description="key of the hashes of customer ids (suppression list, and "
        "every id when hash_customer_ids is on)"
    )
    hash_customer_ids: bool = Field(
        False, description="store and publish only keyed hashes of customer ids, never the ids"
    )

    def stored_customer_id(self, customer_id: str) -> str:
        """The id under which streamapp keeps and publishes a customer."""
        if not self.hash_customer_ids:
            return customer_id
        return hash_customer_id(customer_id, self.customer_id_salt.get_secret_value())

    # Webhook forwarding (streamapp forward)
    webhook_secret: SecretStr | None = Field(
        None, description="key of the HMAC-SHA256 signature on every forwarded change event"
    )
    webhook_timeout: float = Field(10.0, gt=0, description="seconds to wait for a receiver")
    webhook_max_backoff: float = Field(
        60.0, gt=0, description="longest pause between retries of a failed delivery"
    )

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets masked, safe to print or log.

        >>> Settings(api_token="t0p").redacted()["api_token"]
        '**********'
        """
        dumped = self.model_dump(mode="json")
        for name, value in self:
            if isinstance(value, SecretStr):
                dumped[name] = "**********"
        return dumped

    @property
    def redis_dsn(self) -> str:
        """The Redis URL in clear, for the client only."""
        return self.redis_url.get_secret_value()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
