"""Serialized responses kept per store revision, so a cached read costs no protobuf building.

Building a 20-connection ListConnections response in Python costs far more than
the rest of a cached read; the store changes far less often than it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    from google.protobuf.message import Message

    from connfacade.server.store import ReadInfo


@dataclass(frozen=True, slots=True)
class ReadAnswer:
    """A read RPC's response and how the store answered the read; the boundary sends both back."""

    response: Message | bytes
    read: ReadInfo


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

    def answer(self, read: ReadInfo, key: Hashable, build: Callable[[], Message]) -> ReadAnswer:
        """The answer to a read the store answered at ``read.revision``, its bytes built at most once."""
        return ReadAnswer(self.bytes_for(read.revision, key, build), read)
