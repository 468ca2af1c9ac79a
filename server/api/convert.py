"""Proto ⇄ domain conversion shared by every servicer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from google.protobuf.timestamp_pb2 import Timestamp

from connfacade.server.domain import FieldViolation, InvalidArgument, ProviderType, Tag

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime


class _TagMessage(Protocol):
    key: str
    value: str


def provider_type(value: int, names: Mapping[int, str], field: str = "provider_type") -> ProviderType | None:
    """A proto ProviderType as the domain's; UNSPECIFIED is None, unknown numbers are rejected."""
    if value == 0:
        return None
    name = names.get(value)
    if name is None:
        raise InvalidArgument([FieldViolation(field, f"unknown provider type {value}")])
    return ProviderType[name.removeprefix("PROVIDER_TYPE_")]


def optional_int(message: Any, field: str) -> int | None:
    """A proto3 ``optional`` scalar, None when unset."""
    return int(getattr(message, field)) if message.HasField(field) else None


def tags(messages: Iterable[_TagMessage]) -> list[Tag]:
    """Proto tags as domain tags, order kept (violations name them by index)."""
    return [Tag(m.key, m.value) for m in messages]


def timestamp(value: datetime | None) -> Timestamp | None:
    """A datetime as a Timestamp (None stays unset)."""
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts
