"""The live connection store: connections in memory, kept current by one poller per store."""

from connfacade.server.store.cache import ConnectionCache, StoreSettings
from connfacade.server.store.events import ChangeEvent, EventType
from connfacade.server.store.poller import PollIntervals
from connfacade.server.store.reads import CacheResult, ReadInfo, ReadOptions
from connfacade.server.store.store import ConnectionStore

__all__ = [
    "CacheResult",
    "ChangeEvent",
    "ConnectionCache",
    "ConnectionStore",
    "EventType",
    "PollIntervals",
    "ReadInfo",
    "ReadOptions",
    "StoreSettings",
]
