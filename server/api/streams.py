"""WatchConnections and WaitForConnection for either service's protos.

Both connection services declare the same watch messages in their own proto
package; what differs is passed in: the proto module and the converter of
connections. Each event is encoded once, whatever the number of watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import grpc

from connfacade.server.api import convert
from connfacade.server.api.boundary import read_options
from connfacade.server.domain import (
    ConnectionStatus,
    DomainError,
    FieldViolation,
    InvalidArgument,
    ProviderType,
    QuotaExceeded,
    Unavailable,
)
from connfacade.server.security import WatcherCounts, caller
from connfacade.server.store import ChangeEvent, EventType, WatchFilter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

    from connfacade.server.domain import Connection
    from connfacade.server.store import ConnectionStore, Watcher

RESUME_TOKEN_KEY = "x-connfacade-resume-token"  # noqa: S105 - a metadata key, not a secret
MIN_BOOKMARK_INTERVAL = 1.0
MAX_BOOKMARK_INTERVAL = 86_400.0  # a day: longer would leave a stream without a fresh token for too long
_ENCODED_EVENTS = 4096


class ConnectionStreams:
    """The streaming half of one ConnectionService."""

    def __init__(
        self,
        store: ConnectionStore,
        pb: ModuleType,
        to_pb: Callable[[Connection], Any],
        providers: dict[int, str],
        watchers: WatcherCounts | None = None,
    ) -> None:
        self._store = store
        self._watchers = watchers or WatcherCounts()
        self._pb = pb
        self._to_pb = to_pb
        self._providers = providers
        self._statuses = {
            pb.ConnectionStatus.Value(f"CONNECTION_STATUS_{s.value}"): s for s in ConnectionStatus
        }
        self._event_types = {t: pb.EventType.Value(f"EVENT_TYPE_{t.value}") for t in EventType}
        self._encoded: OrderedDict[int, bytes] = OrderedDict()

    # ---- requests ------------------------------------------------------------

    def statuses(self, values: Any, field: str = "statuses") -> frozenset[ConnectionStatus]:
        """Proto statuses as domain ones; unknown numbers are INVALID_ARGUMENT."""
        out = set()
        for i, value in enumerate(values):
            if value not in self._statuses:
                raise InvalidArgument([FieldViolation(f"{field}[{i}]", f"unknown connection status {value}")])
            out.add(self._statuses[value])
        return frozenset(out)

    def _filter(self, request: Any) -> WatchFilter:
        providers: set[ProviderType] = set()
        for i, value in enumerate(request.provider_types):
            provider = convert.provider_type(value, self._providers, f"provider_types[{i}]")
            if provider is None:
                raise InvalidArgument([FieldViolation(f"provider_types[{i}]", "must not be UNSPECIFIED")])
            providers.add(provider)
        principal = caller()
        scope = (lambda name, arn: principal.may_access(name=name, arn=arn)) if principal.restricted else None
        return WatchFilter(
            arns=frozenset(request.connection_arns),
            names=frozenset(request.connection_names),
            provider_types=frozenset(providers),
            statuses=self.statuses(request.statuses),
            scope=scope,
        )

    def _bookmark_interval(self, request: Any) -> float:
        if not request.HasField("bookmark_interval"):
            return self._store.bookmark_interval
        # From the raw fields: any int64 is a valid proto value, and converting
        # one beyond timedelta's range would raise instead of being refused.
        duration = request.bookmark_interval
        seconds = duration.seconds + duration.nanos / 1e9
        if not MIN_BOOKMARK_INTERVAL <= seconds <= MAX_BOOKMARK_INTERVAL:
            raise InvalidArgument(
                [
                    FieldViolation(
                        "bookmark_interval",
                        f"between {MIN_BOOKMARK_INTERVAL:g} s and {MAX_BOOKMARK_INTERVAL:g} s",
                    )
                ]
            )
        return float(seconds)

    # ---- encoding --------------------------------------------------------------

    def _message(
        self, kind: EventType | None, revision: int, token: str, connection: Connection | None
    ) -> bytes:
        event_type = self._pb.EVENT_TYPE_SYNCED if kind is None else self._event_types[kind]
        return bytes(
            self._pb.WatchConnectionsResponse(
                type=event_type,
                revision=revision,
                resume_token=token,
                connection=self._to_pb(connection) if connection is not None else None,
            ).SerializeToString()
        )

    def _encode(self, event: ChangeEvent) -> bytes:
        """An event's bytes, the same for every watcher: built once."""
        data = self._encoded.get(event.revision)
        if data is None:
            data = self._message(
                event.type, event.revision, self._store.resume_token(event.revision), event.connection
            )
            self._encoded[event.revision] = data
            if len(self._encoded) > _ENCODED_EVENTS:
                self._encoded.popitem(last=False)
        return data

    def _bookmark(self, revision: int) -> bytes:
        return bytes(
            self._pb.WatchConnectionsResponse(
                type=self._pb.EVENT_TYPE_BOOKMARK,
                revision=revision,
                resume_token=self._store.resume_token(revision),
            ).SerializeToString()
        )

    # ---- the RPCs --------------------------------------------------------------

    async def watch(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        """Serves one WatchConnections stream until the client leaves or the server ends it."""
        flt = self._filter(request)
        interval = self._bookmark_interval(request)
        with self.held():
            await self._serve(request, context, flt, interval)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Counts a watch stream or a wait against its principal's limit while it runs."""
        principal = caller()
        if not self._watchers.open(principal):
            raise QuotaExceeded(
                f"principal {principal.name!r} already holds {self._watchers.limit(principal)} watch streams "
                "and waits open; close one first",
                subject=f"principal:{principal.name}:watchers",
            )
        try:
            yield
        finally:
            self._watchers.close(principal)

    async def _serve(
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any], flt: WatchFilter, interval: float
    ) -> None:
        store = self._store
        opening = await store.watch(
            flt,
            resume_token=request.resume_token,
            snapshot=not request.skip_initial_snapshot,
            options=read_options(context),
        )
        watcher = opening.watcher
        try:
            if opening.snapshot is not None:
                watcher.in_snapshot = True
                in_snapshot = store.resume_token(opening.revision, in_snapshot=True)
                for connection in opening.snapshot:
                    message = self._message(EventType.ADDED, opening.revision, in_snapshot, connection)
                    await self._send(context, watcher, message)
            if not request.resume_token or opening.snapshot is not None:
                watcher.in_snapshot = False
                synced = self._message(None, opening.revision, store.resume_token(opening.revision), None)
                await self._send(context, watcher, synced)
            for event in opening.replay:
                watcher.position = event.revision
                await self._send(context, watcher, self._encode(event))
            await self._follow(watcher, interval, context)
        finally:
            store.unwatch(watcher)

    async def _follow(
        self, watcher: Watcher, interval: float, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        while True:
            batch = await watcher.next_batch(interval)
            if watcher.closing or watcher.overflowed:
                raise self._ending(watcher)
            if batch is None:  # quiet: every event so far was sent or filtered out
                watcher.position = self._store.revision
                await self._send(context, watcher, self._bookmark(watcher.position))
                continue
            for event in batch:
                if event.revision > watcher.position:
                    watcher.position = event.revision
                    await self._send(context, watcher, self._encode(event))

    async def _send(self, context: grpc.aio.ServicerContext[Any, Any], watcher: Watcher, data: bytes) -> None:
        """Writes one message; the stream's position counts it as sent, as gRPC sends it before any status.

        A reader that stopped reading blocks the write (HTTP/2 flow control);
        the watcher cancels it when the stream must end, which ends it with its
        status and resume token queued behind what the reader has not read.
        """
        watcher.writer = asyncio.current_task()
        try:
            await context.write(data)
        except asyncio.CancelledError:
            if not watcher.interrupted:
                raise  # the caller cancelled
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            raise self._ending(watcher) from None
        except grpc.aio.InternalError as err:
            # gRPC refused the write (ExecuteBatchError): the caller cancelled, or its connection is gone.
            raise asyncio.CancelledError from err
        finally:
            watcher.writer = None

    def _ending(self, watcher: Watcher) -> DomainError:
        """Why the stream ends (shutdown or overflow), with the token to resume from."""
        token = self._store.resume_token(watcher.position, in_snapshot=watcher.in_snapshot)
        trailers = ((RESUME_TOKEN_KEY, token),)
        if watcher.closing:
            return Unavailable(
                "the server is shutting down; resume with the resume token elsewhere", trailers=trailers
            )
        return QuotaExceeded(
            f"this watcher fell more than {watcher.capacity} events behind; resume with its token",
            subject="watch buffer",
            trailers=trailers,
        )
