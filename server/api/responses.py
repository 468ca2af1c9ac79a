"""Serialized responses kept per store revision, so a cached read costs no protobuf building.

Building a 20-connection ListConnections response in Python costs far more than
the rest of a cached read; the store changes far less often than it is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from google.protobuf.message import Message

from connfacade.server import callcontext

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable


M = TypeVar("M", bound=Message)


class ResponseCache:
    """Response bytes of the current revision, by request key; a new revision starts afresh."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._revision = -1
        self._entries: dict[Hashable, bytes] = {}
        self._max_entries = max_entries

    def bytes_for(self, revision: int, key: Hashable, build: Callable[[], Message]) -> bytes:
        """The serialized response for ``key`` at ``revision``, built at most once."""
        if revision != self._revision:
            self._entries = {}
            self._revision = revision
        cached = self._entries.get(key)
        if cached is None:
            cached = build().SerializeToString()
            if len(self._entries) < self._max_entries:  # a flood of distinct keys must not grow memory
                self._entries[key] = cached
        return cached

    def for_current_read(self, key: Hashable, build: Callable[[], M]) -> bytes | M:
        """The response of the read the current call just made, from cache when it can be."""
        call = callcontext.current()
        if call is None or call.read_info is None:
            return build()
        return self.bytes_for(call.read_info.revision, key, build)
