"""The store's edge: what the rest of the server may ask of one service's connections.

The in-memory store (`MemoryStore`) is one implementation of `ConnectionStore`;
a store that replicas share is meant to be a second one behind the same edge.
A read takes the caller's options as an argument and returns how it was
answered with its value: nothing travels beside the arguments.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from connfacade.server.domain import Connection, ConnectionStatus, Page, Tag
    from connfacade.server.store._watch import Opening, Watcher, WatchFilter

T = TypeVar("T")


class CacheResult(enum.Enum):
    """How a read was answered; sent back as ``x-connfacade-cache``."""

    HIT = "hit"  # from memory, fresh enough
    MISS = "miss"  # after a refresh from AWS
    STALE = "stale"  # from memory, because AWS failed and the data is within the stale limit


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the caller asked for (request metadata), or the server's defaults."""

    max_staleness: float | None = None  # seconds; None: the server default
    consistent: bool = False


SERVER_DEFAULTS = ReadOptions()
"""The options of a read nobody asked anything of: the server's staleness, not consistent."""


@dataclass(frozen=True, slots=True)
class ReadInfo:
    """How a read was answered: response metadata."""

    result: CacheResult
    revision: int
    age: float


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    """What a read found, and how the store answered it."""

    value: T
    info: ReadInfo


@runtime_checkable
class ConnectionStore(Protocol):
    """Every connection of one service, kept current, read, written through and watched.

    Reads make the store fresh enough for their options first (or answer from
    memory within the stale limit when AWS fails), and report each outcome to
    the observers of `observe_reads`.
    """

    @property
    def revision(self) -> int:
        """Increases with every change."""
        ...

    @property
    def bookmark_interval(self) -> float:
        """Seconds between BOOKMARK events of a watch that asks for no interval of its own."""
        ...

    def __len__(self) -> int:
        """How many connections the store holds."""
        ...

    def age(self) -> float | None:
        """Seconds since the last complete listing, None if there was none."""
        ...

    def start(self) -> None:
        """Starts keeping the store current."""
        ...

    async def stop(self) -> None:
        """Stops keeping it current, and any refresh under way."""
        ...

    def observe_reads(self, observer: Callable[[CacheResult], None]) -> None:
        """Calls ``observer`` with how each read was answered."""
        ...

    # ---- reads -------------------------------------------------------------

    async def get(self, arn: str, options: ReadOptions) -> Read[Connection | None]:
        """The connection with ``arn`` (either CodeStar prefix); None if there is none."""
        ...

    async def find(self, name: str, options: ReadOptions) -> Read[Connection | None]:
        """The connection named ``name``; None if there is none."""
        ...

    async def page(
        self,
        keep: Callable[[Connection], bool],
        filter_key: str,
        max_results: int | None,
        next_token: str,
        options: ReadOptions,
    ) -> Read[Page[Connection]]:
        """One page of the connections ``keep`` accepts, in stable order; tokens bound to ``filter_key``."""
        ...

    async def tags(
        self, arn: str, fetch: Callable[[], Awaitable[tuple[Tag, ...]]], options: ReadOptions
    ) -> Read[tuple[Tag, ...]]:
        """A resource's tags from memory when fresh enough, else from ``fetch`` (and remembered)."""
        ...

    def known(self, arn: str) -> Connection | None:
        """The connection with ``arn`` as memory holds it now, without a read (None: not known)."""
        ...

    # ---- writes through ----------------------------------------------------

    def upsert(self, connection: Connection, tags: Sequence[Tag] | None = None) -> None:
        """A create or change that AWS confirmed; ``tags``: its complete tag set, if known."""
        ...

    def remove(self, arn: str) -> None:
        """A delete that AWS confirmed."""
        ...

    def merge_tags(self, arn: str, added: Sequence[Tag] = (), removed: Sequence[str] = ()) -> None:
        """A TagResource or UntagResource that AWS confirmed."""
        ...

    # ---- waits and watches -------------------------------------------------

    async def wait(
        self, *, arn: str = "", name: str = "", statuses: frozenset[ConnectionStatus], options: ReadOptions
    ) -> Read[Connection | None]:
        """The connection (by ARN, or by name) once it is in one of ``statuses``.

        None if it does not exist or is deleted (unless DELETED is wanted).
        The outcome reported is that of the first look, which reads with ``options``.
        """
        ...

    async def watch(
        self, flt: WatchFilter, *, resume_token: str = "", snapshot: bool = True, options: ReadOptions
    ) -> Opening:
        """Opens a watcher, with its snapshot (read with ``options``) or the events missed since the token."""
        ...

    def unwatch(self, watcher: Watcher) -> None:
        """Closes a watcher that `watch` opened."""
        ...

    def resume_token(self, revision: int, *, in_snapshot: bool = False) -> str:
        """The resume token of a stream standing at ``revision``."""
        ...

    def end_watches(self) -> None:
        """Asks every watch and wait to end (shutdown)."""
        ...

    async def watches_ended(self) -> None:
        """Returns once no watch or wait is open."""
        ...
