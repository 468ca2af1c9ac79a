"""The log of AWS API calls the emulator answered (control calls are not logged)."""

from __future__ import annotations

import collections
from typing import Any


class RequestLog:
    """The most recent API calls, oldest first; bounded so a benchmark cannot grow it forever."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_entries)

    def append(self, entry: dict[str, Any]) -> None:
        """Record one call."""
        self._entries.append(entry)

    def entries(self, service: str | None = None, operation: str | None = None) -> list[dict[str, Any]]:
        """The calls, optionally only those of one service and/or operation."""
        return [
            e
            for e in self._entries
            if (service is None or e["Service"] == service)
            and (operation is None or e["Operation"] == operation)
        ]

    def clear(self) -> None:
        """Forget every call."""
        self._entries.clear()
