"""One client process of the watch benchmark (bench/watch.py starts several).

    python bench/_watch_client.py --address HOST:PORT --watchers 2500 --summary FILE

Opens ``--watchers`` App Runner ``WatchConnections`` streams (no initial
snapshot) over ``ceil(watchers / per-channel)`` channels, each its own HTTP/2
connection, with at most ``--open-concurrency`` streams not yet SYNCED at a time.
Talks to the driver in lines on stdout:

    ready SYNCED FAILED        every watcher is either synced or given up on
    complete NAME RECEIVED     every live watcher has received the event of connection NAME
    done                       the summary is written

and stops (cancelling every stream) when stdin says ``stop`` or closes. The
summary (JSON, written to ``--summary``) has, per watcher, every ADDED, MODIFIED or DELETED
event it received with ``time.time()`` taken as the message arrived, and every
error by phase and status code.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import grpc

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc

# Codes worth a second try while opening: what a server that is briefly overwhelmed answers.
RETRYABLE = {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
CHANGE_TYPES = {pb.EVENT_TYPE_ADDED, pb.EVENT_TYPE_MODIFIED, pb.EVENT_TYPE_DELETED}


def say(*words: object) -> None:
    print(*words, flush=True)


class Watchers:
    """Every watcher of this process and what they received."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.events: list[list[list[Any]]] = [[] for _ in range(args.watchers)]  # [name, rev, type, t]
        self.bookmarks = 0
        self.synced: set[int] = set()
        self.failed: set[int] = set()  # gave up opening
        self.lost: set[int] = set()  # synced, then the stream ended
        self.open_retries: collections.Counter[str] = collections.Counter()
        self.errors: list[dict[str, Any]] = []
        self.open_seconds: list[float] = []
        self.received: collections.Counter[str] = collections.Counter()
        self.completed: set[str] = set()
        self.settled = asyncio.Event()

    def live(self) -> int:
        return len(self.synced) - len(self.lost)

    def _check_settled(self) -> None:
        if len(self.synced) + len(self.failed) == self.args.watchers:
            self.settled.set()

    def _check_complete(self) -> None:
        live = self.live()
        for name, count in self.received.items():
            if name not in self.completed and live and count >= live:
                self.completed.add(name)
                say("complete", name, count)

    def _receive(self, index: int, response: pb.WatchConnectionsResponse, now: float) -> None:
        if response.type in CHANGE_TYPES:
            name = response.connection.connection_name
            self.events[index].append([name, response.revision, response.type, now])
            self.received[name] += 1
            self._check_complete()
        elif response.type == pb.EVENT_TYPE_BOOKMARK:
            self.bookmarks += 1

    def _lose(self, index: int, error: dict[str, Any]) -> None:
        self.lost.add(index)
        self.errors.append(error)
        self._check_complete()

    async def _attempt(
        self, index: int, stub: pb_grpc.ConnectionServiceStub, opening: asyncio.Semaphore
    ) -> grpc.aio.AioRpcError | None:
        """One try at a stream: None once it was SYNCED (and has ended), else why it did not open."""
        await opening.acquire()
        holding, synced = True, False
        started = time.perf_counter()
        call = stub.WatchConnections(pb.WatchConnectionsRequest(skip_initial_snapshot=True))
        try:
            async for response in call:
                now = time.time()
                if response.type == pb.EVENT_TYPE_SYNCED and not synced:
                    synced = True
                    self.open_seconds.append(time.perf_counter() - started)
                    opening.release()
                    holding = False
                    self.synced.add(index)
                    self._check_settled()
                else:
                    self._receive(index, response, now)
        except grpc.aio.AioRpcError as err:
            if not synced:
                return err
            self._lose(
                index,
                {"watcher": index, "phase": "stream", "code": err.code().name, "details": err.details()},
            )
        else:
            # The server ended the stream with OK: unusual either way.
            error = {
                "watcher": index,
                "phase": "stream" if synced else "open",
                "code": "OK",
                "details": "ended",
            }
            if not synced:
                self.errors.append(error)
                return None
            self._lose(index, error)
        finally:
            if holding:
                opening.release()
            call.cancel()
        return None

    async def run(self, index: int, stub: pb_grpc.ConnectionServiceStub, opening: asyncio.Semaphore) -> None:
        for attempt in range(self.args.open_attempts):
            err = await self._attempt(index, stub, opening)
            if index in self.synced:
                return
            if err is None:
                break
            if err.code() in RETRYABLE and attempt + 1 < self.args.open_attempts:
                self.open_retries[err.code().name] += 1
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            self.errors.append(
                {"watcher": index, "phase": "open", "code": err.code().name, "details": err.details()}
            )
            break
        self.failed.add(index)
        self._check_settled()

    def summary(self) -> dict[str, Any]:
        codes = collections.Counter(f"{e['phase']}:{e['code']}" for e in self.errors)
        return {
            "watchers": self.args.watchers,
            "channels": math.ceil(self.args.watchers / self.args.per_channel),
            "synced": len(self.synced),
            "failed_to_open": len(self.failed),
            "lost_after_sync": len(self.lost),
            "open_retries": dict(self.open_retries),
            "error_counts": dict(codes),
            "errors_sample": self.errors[:20],
            "bookmarks": self.bookmarks,
            "open_seconds": sorted(self.open_seconds),
            "events": self.events,
        }


async def stdin_says_stop() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line or line.strip() == b"stop":
            return


async def main() -> int:
    parser = argparse.ArgumentParser(description="watch benchmark client process")
    parser.add_argument("--address", required=True)
    parser.add_argument("--watchers", type=int, required=True)
    parser.add_argument("--per-channel", type=int, default=100, help="streams per HTTP/2 connection")
    parser.add_argument("--open-concurrency", type=int, default=100, help="streams opening at once")
    parser.add_argument("--open-attempts", type=int, default=3)
    parser.add_argument("--summary", type=Path, required=True)
    args = parser.parse_args()

    state = Watchers(args)
    # A distinct option value per channel, as well as a local subchannel pool: one TCP connection each.
    channels = [
        grpc.aio.insecure_channel(
            args.address,
            options=[("grpc.use_local_subchannel_pool", 1), ("bench.channel", i)],
        )
        for i in range(math.ceil(args.watchers / args.per_channel))
    ]
    stubs = [pb_grpc.ConnectionServiceStub(ch) for ch in channels]
    opening = asyncio.Semaphore(args.open_concurrency)
    stop = asyncio.create_task(stdin_says_stop())
    tasks = [
        asyncio.create_task(state.run(i, stubs[i // args.per_channel], opening)) for i in range(args.watchers)
    ]
    try:
        settled = asyncio.create_task(state.settled.wait())
        await asyncio.wait({settled, stop}, return_when=asyncio.FIRST_COMPLETED)
        if settled.done():
            say("ready", len(state.synced), len(state.failed))
        settled.cancel()
        await stop
    finally:
        stop.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ch in channels:
            with contextlib.suppress(Exception):
                await ch.close(grace=None)
    args.summary.write_text(json.dumps(state.summary()))
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
