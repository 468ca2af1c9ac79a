"""The live connection store: connections in memory, kept current by one poller per store.

`ConnectionStore` is the edge the rest of the server uses; `MemoryStore` is the
in-memory implementation. Everything else of this package is private.
"""

from connfacade.server.store._edge import (
    SERVER_DEFAULTS,
    CacheResult,
    ConnectionStore,
    Read,
    ReadInfo,
    ReadOptions,
)
from connfacade.server.store._events import ChangeEvent, EventType
from connfacade.server.store._memory import MemoryStore, StoreSettings
from connfacade.server.store._poller import PollIntervals
from connfacade.server.store._watch import Opening, Watcher, WatchFilter

__all__ = [
    "SERVER_DEFAULTS",
    "CacheResult",
    "ChangeEvent",
    "ConnectionStore",
    "EventType",
    "MemoryStore",
    "Opening",
    "PollIntervals",
    "Read",
    "ReadInfo",
    "ReadOptions",
    "StoreSettings",
    "WatchFilter",
    "Watcher",
]
