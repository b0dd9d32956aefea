"""The wire formats: Segment-spec input events, change events and DLQ records.

These pydantic models are the source of the JSON Schemas in ``schemas/`` (``streamapp schemas
export``). Input events are camelCase on the wire, as Segment sends them; unknown fields are kept
by Segment and ignored here.

>>> e = parse_event(b'{"type":"track","userId":"u1","event":"Order Completed",'
...                 b'"properties":{"revenue":25.5},"timestamp":"2026-01-05T10:00:00Z"}')
>>> e.customer_id, e.is_order, e.revenue
('u1', True, 25.5)
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

ORDER_EVENT = "Order Completed"
# Segment's e-commerce spec names the order amount revenue, total or value, in that preference.
REVENUE_KEYS = ("revenue", "total", "value")
# A single order above this is a bug upstream, not a sale; it goes to the DLQ instead of a profile.
MAX_ORDER_REVENUE = 10_000_000.0
MAX_ID_LENGTH = 256
# Only these identify traits are kept; anything else (e-mail, phone, address) is dropped on read.
TRAIT_ALLOWLIST = frozenset(
    {"country", "city", "region", "plan", "age", "gender", "language", "timezone", "industry"}
)


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class _BaseEvent(_Wire):
    user_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    anonymous_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    message_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    timestamp: AwareDatetime | None = None
    sent_at: AwareDatetime | None = None
    context: dict[str, Any] | None = None

    @field_validator("user_id", "anonymous_id", "message_id", mode="before")
    @classmethod
    def _ids_are_text(cls, value: Any) -> Any:
        # Segment allows numeric ids; they are the same customer as their text form.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("user_id", "anonymous_id")
    @classmethod
    def _ids_are_printable(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not value.isprintable()):
            raise ValueError("ids must be non-empty printable text")
        return value

    @model_validator(mode="after")
    def _has_customer(self) -> _BaseEvent:
        if self.user_id is None and self.anonymous_id is None:
            raise ValueError("an event needs userId or anonymousId")
        return self

    @property
    def customer_id(self) -> str:
        """userId when known, else anonymousId: the Kafka key and the profile's id."""
        return self.user_id or self.anonymous_id or ""

    @property
    def event_time(self) -> datetime | None:
        """When it happened: timestamp, else sentAt, else None (the caller falls back)."""
        return self.timestamp or self.sent_at

    @property
    def is_order(self) -> bool:
        return False

    @property
    def is_page_view(self) -> bool:
        return False

    @property
    def revenue(self) -> float:
        return 0.0

    @property
    def kept_traits(self) -> dict[str, str]:
        return {}

    @property
    def merges_from(self) -> str | None:
        """Another id whose profile this event merges into this customer's, if any."""
        return None

    @property
    def is_forget(self) -> bool:
        return False


class TrackEvent(_BaseEvent):
    """A user action; ``Order Completed`` with a revenue is an order."""

    type: Literal["track"]
    event: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _order_has_sane_revenue(self) -> TrackEvent:
        if self.event != ORDER_EVENT:
            return self
        for key in REVENUE_KEYS:
            value = self.properties.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"properties.{key} must be a number, got {value!r}")
            if not math.isfinite(value) or not 0 <= value <= MAX_ORDER_REVENUE:
                raise ValueError(
                    f"properties.{key} must be between 0 and {MAX_ORDER_REVENUE:g}, got {value!r}"
                )
            return self
        return self

    @property
    def is_order(self) -> bool:
        return self.event == ORDER_EVENT

    @property
    def revenue(self) -> float:
        if not self.is_order:
            return 0.0
        for key in REVENUE_KEYS:
            if self.properties.get(key) is not None:
                return float(self.properties[key])
        return 0.0


class IdentifyEvent(_BaseEvent):
    """Who the customer is; only allowlisted traits are kept."""

    type: Literal["identify"]
    traits: dict[str, Any] = Field(default_factory=dict)

    @property
    def kept_traits(self) -> dict[str, str]:
        return {
            key: str(value)[:64]
            for key, value in self.traits.items()
            if key in TRAIT_ALLOWLIST and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        }

    @property
    def merges_from(self) -> str | None:
        # Segment's identify with both ids: the anonymous visitor turned out to be this user.
        if self.user_id is not None and self.anonymous_id not in (None, self.user_id):
            return self.anonymous_id
        return None


class PageEvent(_BaseEvent):
    """A web page view."""

    type: Literal["page"]
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_page_view(self) -> bool:
        return True


class ScreenEvent(_BaseEvent):
    """A mobile screen view; counted with page views."""

    type: Literal["screen"]
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_page_view(self) -> bool:
        return True


class AliasEvent(_BaseEvent):
    """previousId is now known as userId."""

    type: Literal["alias"]
    previous_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)

    @property
    def merges_from(self) -> str | None:
        return self.previous_id if self.previous_id != self.customer_id else None


class ForgetEvent(_BaseEvent):
    """An operator's request to forget the customer (GDPR erasure), not a Segment event.

    Sent on the input topic keyed by the customer id, so it is applied in order with their events;
    whoever may write to that topic may therefore erase customers (README, Security and privacy).
    """

    type: Literal["forget"]

    @property
    def is_forget(self) -> bool:
        return True


InputEvent = Annotated[
    TrackEvent | IdentifyEvent | PageEvent | ScreenEvent | AliasEvent | ForgetEvent,
    Field(discriminator="type"),
]
_input_adapter: TypeAdapter[InputEvent] = TypeAdapter(InputEvent)


AnyEvent = TrackEvent | IdentifyEvent | PageEvent | ScreenEvent | AliasEvent | ForgetEvent


def parse_event(payload: bytes) -> AnyEvent:
    """Decode and validate one event; raises ``ValueError`` (or pydantic's subclass) when bad.

    >>> parse_event(b'{"type":"page","anonymousId":"a9"}').customer_id
    'a9'
    >>> parse_event(b'{"type":"page"}')
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for tagged-union[...]
    ...
    """
    # orjson rejects NaN/Infinity and invalid UTF-8, which JSON does not allow either.
    return _input_adapter.validate_python(orjson.loads(payload))


def input_event_schema() -> dict[str, Any]:
    """JSON Schema of one input event."""
    return _input_adapter.json_schema(by_alias=True)


class SegmentChange(BaseModel):
    """One change of a customer's segment or audience membership, as published downstream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(description="deterministic: same change, same id")
    customer_id: str
    kind: Literal["cluster", "audience"]
    change: Literal["entered", "exited", "moved"]
    segment: str | None
    segment_name: str | None
    previous_segment: str | None
    previous_segment_name: str | None
    model_version: int
    features: dict[str, float | int | str | None]
    event_time: datetime
    emitted_at: datetime
    cause_message_id: str
    merged_into: str | None = Field(
        None, description="set on the exits of an id merged into another (alias, identify)")


class DlqRecord(BaseModel):
    """An input the worker could not use, with why, where it came from and its exact bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error: str
    error_type: str
    topic: str
    partition: int
    offset: int
    received_at: datetime
    payload_b64: str
