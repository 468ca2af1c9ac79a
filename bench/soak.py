"""Soak: a real server under a mixed workload and cycling AWS faults, then its invariants.

    ./scripts/soak                 # or: .venv/bin/python bench/soak.py [--duration 180]

One `connfacade serve` process on its embedded emulator (loopback, free ports,
an audit file in a temporary folder) gets, for ``--duration`` seconds:

- ``--concurrency`` workers mixing creates (App Runner and CodeStar
  connections, CodeStar hosts), gets, paged lists, tag/untag, list-tags,
  UpdateHost and deletes. Creates and deletes carry a UUID ``x-request-id``
  and are retried with the same id on UNAVAILABLE / DEADLINE_EXCEEDED (the
  server makes them idempotent); every mutation carries its own id, so each
  attempt can be matched to its audit record;
- WaitForConnection on new connections, while a handshake task completes (or
  fails) their handshakes through the emulator's control call;
- ``--watchers`` WatchConnections streams per service, each cut by the soak
  every few seconds and resumed from its last token (and from the server's
  trailer token after any stream error);
- a fault schedule cycling throttling, 5xx errors, latency (some beyond the
  call deadline) and dropped connections on random operations, then clearing
  them.

Then faults stop, the store settles, and the run checks: calls by RPC and
status code (INTERNAL/UNKNOWN never expected); watcher gaps and duplicates
(each change seen exactly once, each watcher's view equal to a consistent
listing); audit records against mutation attempts (after SIGTERM and
`connfacade audit verify`); duplicate creates in the emulator's final state;
server RSS (sampled every ``--rss-every`` seconds), shutdown time and exit
code. Results go to stdout and to bench/results/soak-<time>.json; the exit
status is 1 if any invariant broke.

What the server remembers grows until its limits are reached: request ids
for the idempotency window (600 s), the last 10,000 change events, the
emulator's request log. To see RSS level off within minutes rather than after
ten, shorten the server's limits, for example
``--idempotency-window 60 --history-limit 1000 --duration 420``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from _load import write_results
from aiobotocore.session import get_session
from google.protobuf.duration_pb2 import Duration

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.client import policy
from connfacade.client.errors import from_rpc_error
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import connection_service_pb2_grpc as cs_grpc
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import host_service_pb2_grpc as hs_grpc
from connfacade.codestar.v1 import types_pb2 as cs_types
from connfacade.server.emulator import EmulatorControl, EmulatorControlError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

HERE = Path(__file__).resolve().parent
CONNFACADE = Path(sys.executable).parent / "connfacade"
REGION = "us-east-1"
OK = grpc.StatusCode.OK
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# What a valid request may meet under faults and races; anything else is reported.
EXPECTED_CODES = frozenset(
    {"OK", "UNAVAILABLE", "DEADLINE_EXCEEDED", "NOT_FOUND", "FAILED_PRECONDITION", "CANCELLED"}
)
NEVER_CODES = frozenset({"INTERNAL", "UNKNOWN"})
MUTATIONS = policy.MUTATIONS
RESUME_TOKEN_KEY = "x-connfacade-resume-token"  # noqa: S105 - a metadata key
CONSISTENT = (("x-connfacade-consistent-read", "true"),)
FAULT_KINDS = ("throttle", "error", "latency", "drop")
FAULT_SERVICES = (None, "apprunner", "codestar-connections")
# Reads are mostly served from the store, so faults favour what always reaches AWS: mutations and polls.
FAULT_OPERATIONS = {
    "*": 3,
    "CreateConnection": 4,
    "DeleteConnection": 3,
    "ListConnections": 2,
    "CreateHost": 1,
    "DeleteHost": 1,
    "TagResource": 1,
    "UntagResource": 1,
    "UpdateHost": 1,
    "GetConnection": 0.5,
    "GetHost": 0.5,
    "ListHosts": 0.5,
}
APPRUNNER_OPERATIONS = frozenset(
    {"*", "CreateConnection", "DeleteConnection", "ListConnections", "TagResource", "UntagResource"}
)
FIVE_XX = ((500, None), (503, "ServiceUnavailable"), (502, "BadGateway"))
KINDS = ("apprunner", "codestar", "host")
POPULATION = {"apprunner": 40, "codestar": 60, "host": 10}  # well under the emulator's quotas


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sample_rss(pid: int, every: float, samples: list[tuple[float, float]]) -> None:
    """Appends (seconds since the start, RSS MB) every ``every`` s until cancelled or the process is gone."""
    began = time.monotonic()
    while True:
        try:
            samples.append((round(time.monotonic() - began, 1), round(rss_mb(pid), 1)))
        except FileNotFoundError:
            return
        await asyncio.sleep(every)


def rss_growth(samples: list[tuple[float, float]]) -> dict[str, float]:
    """How much the peak RSS rose in each half of the run: a plateau is a second half that adds ~nothing."""
    if len(samples) < 2:
        return {}
    middle = samples[-1][0] / 2
    first = [mb for t, mb in samples if t <= middle]
    second = [mb for t, mb in samples if t > middle]
    return {
        "first_half_mb": round(max(first) - samples[0][1], 1),
        "second_half_mb": round(max(second) - max(first), 1),
    }


# ---- the server process ------------------------------------------------------------------


async def _banner(stdout: asyncio.StreamReader) -> dict[str, str] | None:
    """The gRPC address and emulator URL the server prints; None if it exits first."""
    found: dict[str, str] = {}
    patterns = {
        "grpc": re.compile(r"connfacade: gRPC listening on (\S+)"),
        "emulator": re.compile(r"connfacade: AWS emulator at (\S+)"),
    }
    while len(found) < len(patterns):
        line = (await stdout.readline()).decode()
        if not line:
            return None
        for key, pattern in patterns.items():
            if m := pattern.search(line):
                found[key] = m.group(1)
    return found


@dataclass
class Server:
    proc: asyncio.subprocess.Process
    address: str
    emulator: str
    stderr_path: Path
    drain: asyncio.Task[None]

    @classmethod
    async def start(cls, workdir: Path, audit_dir: Path, limits: list[str]) -> Server:
        """The server, with ``limits`` (more `connfacade serve` flags) after the soak's own."""
        stderr_path = workdir / "server.stderr"
        command = [
            str(CONNFACADE),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--emulator-address",
            "127.0.0.1:0",
            "--metrics-address",
            "off",
            "--audit-file",
            str(audit_dir / "audit.jsonl"),
            "--audit-stdout",
            "off",
            # Fast polls and a short backoff: the store recovers within seconds once faults clear.
            "--poll-fast",
            "0.2",
            "--poll-slow",
            "1",
            "--poll-max-backoff",
            "2",
            "--log-level",
            "warning",
            *limits,
        ]
        with stderr_path.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=stderr, stdin=asyncio.subprocess.DEVNULL
            )
        stdout = proc.stdout
        if stdout is None:
            raise RuntimeError("no pipe to the server's stdout")
        try:
            async with asyncio.timeout(60):
                found = await _banner(stdout)
        except BaseException:
            proc.kill()
            await proc.wait()
            raise
        if found is None:
            tail = stderr_path.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError("the server exited before announcing itself:\n" + "\n".join(tail))

        async def drain() -> None:
            while await stdout.readline():
                pass

        return cls(proc, found["grpc"], found["emulator"], stderr_path, asyncio.create_task(drain()))

    def error_lines(self) -> list[str]:
        """Server log lines at error level or above."""
        out = []
        for line in self.stderr_path.read_text(errors="replace").splitlines():
            try:
                level = json.loads(line).get("level", "")
            except (ValueError, AttributeError):
                level = "error" if "Traceback" in line else ""
            if level in {"error", "critical", "exception"}:
                out.append(line)
        return out

    async def terminate(self, grace: float = 30.0) -> tuple[int | None, float]:
        """SIGTERM; the exit code (None if it had to be killed) and seconds to exit."""
        started = time.monotonic()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                code: int | None = await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            code = None
        took = time.monotonic() - started
        await self.drain
        return code, took


# ---- watchers ----------------------------------------------------------------------------


@dataclass
class Watcher:
    """One long-lived WatchConnections stream, cut and resumed, and everything it saw."""

    service: str
    index: int
    open_stream: Callable[[str], Any]
    status_of: Callable[[Any], int]
    deleted_status: int
    lifetime: tuple[float, float]
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    token: str = ""
    view: dict[str, tuple[str, int]] = field(default_factory=dict)
    added: collections.Counter[str] = field(default_factory=collections.Counter)
    deleted: collections.Counter[str] = field(default_factory=collections.Counter)
    delivered: set[int] = field(default_factory=set)
    max_revision: int = 0
    events: int = 0
    bookmarks: int = 0
    duplicate_revisions: int = 0
    out_of_order: int = 0
    streams: int = 0
    cut_by_soak: int = 0
    resumed_from_trailer: int = 0
    resyncs: int = 0
    ends: collections.Counter[str] = field(default_factory=collections.Counter)
    stopping: bool = False
    advanced: asyncio.Event = field(default_factory=asyncio.Event)

    def _event(self, event: Any, *, in_snapshot: bool, types: Any) -> None:
        kind = event.type
        if kind == types.EVENT_TYPE_SYNCED:
            self.synced.set()
            self.token = event.resume_token
            self.max_revision = max(self.max_revision, event.revision)
            self.advanced.set()
            return
        if kind == types.EVENT_TYPE_BOOKMARK:
            self.bookmarks += 1
            self.token = event.resume_token
            self.max_revision = max(self.max_revision, event.revision)
            self.advanced.set()
            return
        arn = event.connection.connection_arn
        if in_snapshot:  # a listing, not a change: revisions here are not positions
            self.view[arn] = (event.connection.connection_name, self.status_of(event.connection))
            return
        self.events += 1
        if event.revision in self.delivered:
            self.duplicate_revisions += 1
        elif event.revision <= self.max_revision:
            self.out_of_order += 1  # behind a bookmark or event already delivered: a resume would skip it
        self.delivered.add(event.revision)
        self.max_revision = max(self.max_revision, event.revision)
        self.advanced.set()
        self.token = event.resume_token
        if kind == types.EVENT_TYPE_ADDED:
            self.added[arn] += 1
            self.view[arn] = (event.connection.connection_name, self.status_of(event.connection))
        elif kind == types.EVENT_TYPE_MODIFIED:
            self.view[arn] = (event.connection.connection_name, self.status_of(event.connection))
        elif kind == types.EVENT_TYPE_DELETED:
            self.deleted[arn] += 1
            self.view.pop(arn, None)

    async def _stream(self, types: Any, lifetime: float) -> tuple[grpc.StatusCode, str, bool]:
        """One stream until it ends or ``lifetime`` passes: its code, trailer token, and if mid-snapshot."""
        call = self.open_stream(self.token)
        self.streams += 1
        in_snapshot = not self.token
        if in_snapshot:
            self.view.clear()  # a snapshot starts the view over
        try:
            async with asyncio.timeout(lifetime):
                async for event in call:
                    self._event(event, in_snapshot=in_snapshot, types=types)
                    if event.type == types.EVENT_TYPE_SYNCED:
                        in_snapshot = False
        except TimeoutError:
            call.cancel()
            self.cut_by_soak += 1
            return grpc.StatusCode.CANCELLED, "", in_snapshot
        except grpc.aio.AioRpcError as err:
            return err.code(), dict(err.trailing_metadata() or ()).get(RESUME_TOKEN_KEY, ""), in_snapshot
        except asyncio.CancelledError:
            call.cancel()
            raise
        return OK, "", in_snapshot

    async def reach(self, revision: int) -> None:
        """Returns once this watcher has been told of ``revision`` (bookmarks count)."""
        while self.max_revision < revision:
            self.advanced.clear()
            await self.advanced.wait()

    async def run(self, tally: Tally, types: Any, rng: random.Random) -> None:
        rpc = f"{self.service}.WatchConnections"
        while not self.stopping:
            code, trailer_token, in_snapshot = await self._stream(types, rng.uniform(*self.lifetime))
            tally.count(rpc, code)
            self.ends[code.name] += 1
            if code == grpc.StatusCode.OUT_OF_RANGE:
                self.resyncs += 1  # the history no longer covers our position: exactly-once is lost
                self.token = ""
            elif in_snapshot:
                self.token = ""  # cut during the snapshot: start over
            elif trailer_token:
                self.resumed_from_trailer += 1
                self.token = trailer_token  # the server knows where this stream stood
            if code not in {OK, grpc.StatusCode.CANCELLED}:
                await asyncio.sleep(rng.uniform(0.05, 0.2))


# ---- tallies -----------------------------------------------------------------------------


@dataclass
class Tally:
    calls: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    retries: collections.Counter[str] = field(default_factory=collections.Counter)
    mutation_attempts: collections.Counter[str] = field(default_factory=collections.Counter)
    request_ids: collections.Counter[str] = field(default_factory=collections.Counter)
    notes: collections.Counter[str] = field(default_factory=collections.Counter)

    def count(self, rpc: str, code: grpc.StatusCode) -> None:
        self.calls[rpc, code.name] += 1

    def by_rpc(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (rpc, code), n in sorted(self.calls.items()):
            out.setdefault(rpc, {})[code] = n
        return out

    def by_code(self) -> dict[str, int]:
        out: collections.Counter[str] = collections.Counter()
        for (_, code), n in self.calls.items():
            out[code] += n
        return dict(out.most_common())


# ---- the workload ------------------------------------------------------------------------


@dataclass
class Resources:
    """What the soak created and deleted, per kind (apprunner, codestar, host)."""

    live: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    created: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    deleted: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    names: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    available_hosts: set[str] = field(default_factory=set)


class Workload:
    def __init__(self, channel: grpc.aio.Channel, control: EmulatorControl, args: argparse.Namespace) -> None:
        self.apprunner = ar_grpc.ConnectionServiceStub(channel)
        self.codestar = cs_grpc.ConnectionServiceStub(channel)
        self.hosts = hs_grpc.HostServiceStub(channel)
        self.control = control
        self.args = args
        self.rng = random.Random(args.seed)
        self.tally = Tally()
        self.res = Resources()
        self.prefix = f"soak{uuid.uuid4().hex[:5]}"
        self.serial = 0
        self.handshakes: asyncio.Queue[tuple[float, str, str]] = asyncio.Queue()
        self.waiters: set[asyncio.Task[None]] = set()
        self.waiter_slots = asyncio.Semaphore(args.waiters)
        self.handshaken: collections.Counter[str] = collections.Counter()
        self.create_conflicts = 0

    # -- calls

    async def unary(
        self,
        rpc: str,
        method: Any,
        request: Any,
        *,
        request_id: str | None = None,
        metadata: tuple[tuple[str, str], ...] = (),
        deadline: float | None = None,
    ) -> tuple[Any, grpc.aio.AioRpcError | None]:
        """One call, tallied by its status; mutations are counted with their request id."""
        md = list(metadata)
        if rpc.rsplit(".", 1)[1] in MUTATIONS:
            request_id = request_id or str(uuid.uuid4())
            self.tally.mutation_attempts[rpc] += 1
            self.tally.request_ids[request_id] += 1
        if request_id:
            md.append(("x-request-id", request_id))
        try:
            response = await method(request, timeout=deadline or self.args.deadline, metadata=md)
        except grpc.aio.AioRpcError as err:
            self.tally.count(rpc, err.code())
            return None, err
        self.tally.count(rpc, OK)
        return response, None

    async def retried(self, rpc: str, method: Any, request: Any) -> tuple[Any, grpc.aio.AioRpcError | None]:
        """A Create or Delete, retried with the same request id while the answer is retryable."""
        request_id = str(uuid.uuid4())
        step = 0.05
        for attempt in range(self.args.max_attempts):
            response, err = await self.unary(rpc, method, request, request_id=request_id)
            if err is None or err.code() not in RETRYABLE or attempt == self.args.max_attempts - 1:
                return response, err
            self.tally.retries[rpc] += 1
            asked = from_rpc_error(err).retry_delay or 0.0
            await asyncio.sleep(min(max(step, asked), 2.0) * self.rng.uniform(0.5, 1.0))
            step = min(step * 2, 2.0)
        raise AssertionError("unreachable")

    def _name(self, kind: str) -> str:
        self.serial += 1
        name = f"{self.prefix}-{kind[:2]}-{self.serial:06d}"
        self.res.names[kind].append(name)
        return name

    def _pick(self, kind: str) -> tuple[str, str] | None:
        live = self.res.live[kind]
        if not live:
            return None
        arn = self.rng.choice(list(live))
        return arn, live[arn]

    # -- creates and deletes

    async def create(self, kind: str) -> None:
        name = self._name(kind)
        if kind == "apprunner":
            response, err = await self.retried(
                "apprunner.CreateConnection",
                self.apprunner.CreateConnection,
                ar.CreateConnectionRequest(
                    connection_name=name,
                    provider_type=self.rng.choice([ar.PROVIDER_TYPE_GITHUB, ar.PROVIDER_TYPE_BITBUCKET]),
                    tags=[ar.Tag(key="soak", value="1")],
                ),
            )
            arn = response.connection.connection_arn if response else ""
        elif kind == "codestar":
            response, err = await self.retried(
                "codestar.CreateConnection",
                self.codestar.CreateConnection,
                cs.CreateConnectionRequest(
                    connection_name=name,
                    provider_type=self.rng.choice(
                        [
                            cs_types.PROVIDER_TYPE_GITHUB,
                            cs_types.PROVIDER_TYPE_BITBUCKET,
                            cs_types.PROVIDER_TYPE_GITLAB,
                        ]
                    ),
                    tags=[cs_types.Tag(key="soak", value="1")],
                ),
            )
            arn = response.connection_arn if response else ""
        else:
            response, err = await self.retried(
                "codestar.CreateHost",
                self.hosts.CreateHost,
                hs.CreateHostRequest(
                    name=name,
                    provider_type=cs_types.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER,
                    provider_endpoint=f"https://{name}.example.com",
                ),
            )
            arn = response.host_arn if response else ""
        if err is not None and err.code() == grpc.StatusCode.INVALID_ARGUMENT:
            self.create_conflicts += 1  # a valid, unique name refused: a retry that ran twice
        if not arn:
            return
        self.res.live[kind][arn] = name
        self.res.created[kind][arn] = name
        # Most handshakes complete, some fail, a few are left pending (their waiters time out).
        roll = self.rng.random()
        if kind == "host" or roll < 0.85:
            outcome = "AVAILABLE"
        elif roll < 0.95:
            outcome = "ERROR"
        else:
            outcome = ""
        if outcome:
            await self.handshakes.put((time.monotonic() + self.rng.uniform(0.1, 2.0), arn, outcome))
        if kind != "host" and self.rng.random() < self.args.wait_share and not self.waiter_slots.locked():
            task = asyncio.create_task(self.wait_for(kind, arn))
            self.waiters.add(task)
            task.add_done_callback(self.waiters.discard)

    async def delete(self, kind: str) -> None:
        picked = self._pick(kind)
        if picked is None:
            return
        arn, _ = picked
        del self.res.live[kind][arn]  # no other worker deletes it now; reads may still race
        self.res.available_hosts.discard(arn)
        if kind == "apprunner":
            _, err = await self.retried(
                "apprunner.DeleteConnection",
                self.apprunner.DeleteConnection,
                ar.DeleteConnectionRequest(connection_arn=arn),
            )
        elif kind == "codestar":
            _, err = await self.retried(
                "codestar.DeleteConnection",
                self.codestar.DeleteConnection,
                cs.DeleteConnectionRequest(connection_arn=arn),
            )
        else:
            _, err = await self.retried(
                "codestar.DeleteHost", self.hosts.DeleteHost, hs.DeleteHostRequest(host_arn=arn)
            )
        if err is None or err.code() == grpc.StatusCode.NOT_FOUND:
            self.res.deleted[kind].add(arn)
        else:
            self.res.live[kind][arn] = self.res.created[kind][arn]  # still there, as far as we know

    async def wait_for(self, kind: str, arn: str) -> None:
        async with self.waiter_slots:
            deadline = self.args.deadline * 3
            if kind == "apprunner":
                response, _ = await self.unary(
                    "apprunner.WaitForConnection",
                    self.apprunner.WaitForConnection,
                    ar.WaitForConnectionRequest(connection_arn=arn),
                    deadline=deadline,
                )
                status = response.connection.status if response else None
                done = (ar.CONNECTION_STATUS_AVAILABLE, ar.CONNECTION_STATUS_ERROR)
            else:
                response, _ = await self.unary(
                    "codestar.WaitForConnection",
                    self.codestar.WaitForConnection,
                    cs.WaitForConnectionRequest(connection_arn=arn),
                    deadline=deadline,
                )
                status = response.connection.connection_status if response else None
                done = (cs.CONNECTION_STATUS_AVAILABLE, cs.CONNECTION_STATUS_ERROR)
            if status is not None and status not in done:
                self.tally.notes["wait answered a status not asked for"] += 1

    async def handshaker(self) -> None:
        """Completes handshakes as a person in the AWS console would, through the emulator."""
        pending: list[tuple[float, str, str]] = []
        while True:
            if not pending:
                pending.append(await self.handshakes.get())
            while not self.handshakes.empty():
                pending.append(self.handshakes.get_nowait())
            pending.sort()
            due, arn, outcome = pending[0]
            now = time.monotonic()
            if due > now:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(due - now):
                        pending.append(await self.handshakes.get())
                continue
            pending.pop(0)
            try:
                await self.control.complete_handshake(arn, outcome)
            except EmulatorControlError:
                self.handshaken["gone"] += 1  # deleted before its handshake
                continue
            self.handshaken[outcome] += 1
            if ":host/" in arn:
                self.res.available_hosts.add(arn)

    # -- reads and tag changes

    async def get(self) -> None:
        kind = self.rng.choice(KINDS)
        picked = self._pick(kind) or (
            (self.rng.choice(list(self.res.created[kind].items()))) if self.res.created[kind] else None
        )
        if picked is None:
            return
        arn, name = picked
        if kind == "apprunner":
            by_name = self.rng.random() < 0.3
            request = (
                ar.GetConnectionRequest(connection_name=name)
                if by_name
                else ar.GetConnectionRequest(connection_arn=arn)
            )
            await self.unary("apprunner.GetConnection", self.apprunner.GetConnection, request)
        elif kind == "codestar":
            await self.unary(
                "codestar.GetConnection",
                self.codestar.GetConnection,
                cs.GetConnectionRequest(connection_arn=arn),
            )
        else:
            await self.unary("codestar.GetHost", self.hosts.GetHost, hs.GetHostRequest(host_arn=arn))

    async def list_all(self) -> None:
        """One paged listing, page by page (a page is a call), sometimes asking for a consistent read."""
        kind = self.rng.choice(KINDS)
        page_size = self.rng.randint(1, 25)
        metadata = CONSISTENT if self.rng.random() < 0.1 else ()
        token = ""
        for _ in range(1000):
            if kind == "apprunner":
                response, err = await self.unary(
                    "apprunner.ListConnections",
                    self.apprunner.ListConnections,
                    ar.ListConnectionsRequest(max_results=page_size, next_token=token),
                    metadata=metadata if not token else (),
                )
            elif kind == "codestar":
                response, err = await self.unary(
                    "codestar.ListConnections",
                    self.codestar.ListConnections,
                    cs.ListConnectionsRequest(max_results=page_size, next_token=token),
                    metadata=metadata if not token else (),
                )
            else:
                response, err = await self.unary(
                    "codestar.ListHosts",
                    self.hosts.ListHosts,
                    hs.ListHostsRequest(max_results=page_size, next_token=token),
                )
            if err is not None or not response.next_token:
                return
            token = response.next_token

    async def tags(self, operation: str) -> None:
        kind = self.rng.choice(("apprunner", "codestar"))
        picked = self._pick(kind)
        if picked is None:
            return
        arn, _ = picked
        key = f"k{self.rng.randint(0, 4)}"
        stub = self.apprunner if kind == "apprunner" else self.codestar
        pb: Any = ar if kind == "apprunner" else cs
        tag: Any = ar.Tag if kind == "apprunner" else cs_types.Tag
        rpc = f"{kind}.{operation}"
        if operation == "TagResource":
            request = pb.TagResourceRequest(resource_arn=arn, tags=[tag(key=key, value=str(self.serial))])
        elif operation == "UntagResource":
            request = pb.UntagResourceRequest(resource_arn=arn, tag_keys=[key])
        else:
            request = pb.ListTagsForResourceRequest(resource_arn=arn)
        await self.unary(rpc, getattr(stub, operation), request)

    async def update_host(self) -> None:
        available = [a for a in self.res.available_hosts if a in self.res.live["host"]]
        arn = self.rng.choice(available) if available and self.rng.random() < 0.8 else None
        picked = (arn, "") if arn else self._pick("host")
        if picked is None:
            return
        await self.unary(
            "codestar.UpdateHost",
            self.hosts.UpdateHost,
            hs.UpdateHostRequest(host_arn=picked[0], provider_endpoint=f"https://{self.serial}.example.com"),
        )

    # -- the mix

    def _operations(self) -> list[tuple[float, Callable[[], Awaitable[None]]]]:
        def create_or_delete(kind: str, create: bool) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                count = len(self.res.live[kind])
                if create and count < POPULATION[kind]:
                    await self.create(kind)
                elif not create and count > 0:
                    await self.delete(kind)
                else:
                    await (self.delete(kind) if create else self.create(kind))

            return run

        return [
            (8, create_or_delete("apprunner", create=True)),
            (8, create_or_delete("codestar", create=True)),
            (2, create_or_delete("host", create=True)),
            (5, create_or_delete("apprunner", create=False)),
            (5, create_or_delete("codestar", create=False)),
            (1.5, create_or_delete("host", create=False)),
            (16, self.get),
            (8, self.list_all),
            (6, lambda: self.tags("TagResource")),
            (4, lambda: self.tags("UntagResource")),
            (4, lambda: self.tags("ListTagsForResource")),
            (1.5, self.update_host),
        ]

    async def worker(self, stop_at: float) -> None:
        operations = self._operations()
        weights = [w for w, _ in operations]
        while time.monotonic() < stop_at:
            (operation,) = self.rng.choices([op for _, op in operations], weights)
            await operation()
            if self.args.pause:
                await asyncio.sleep(self.rng.uniform(0, 2 * self.args.pause))


# ---- faults ------------------------------------------------------------------------------


@dataclass
class FaultLog:
    injected: collections.Counter[str] = field(default_factory=collections.Counter)
    upstream_calls: int = 0
    upstream_outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    phases: int = 0


def _fault(kind: str, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """One fault of ``kind`` on a random operation (and service, or both)."""
    operation = rng.choices(list(FAULT_OPERATIONS), list(FAULT_OPERATIONS.values()))[0]
    service = rng.choice(FAULT_SERVICES)
    if service == "apprunner" and operation not in APPRUNNER_OPERATIONS:
        service = "codestar-connections"  # App Runner has no such operation
    spec: dict[str, Any] = {
        "operation": operation,
        "kind": kind,
        "service": service,
        # A few calls (botocore retries them away) or all until cleared (callers see it).
        "count": rng.choice([None, None, 1, 2, 3, 6]),
    }
    if kind == "latency":
        spec["latency_ms"] = rng.choice([50, 300, 1000, int(args.deadline * 1300)])
    elif kind == "error":
        spec["http_status"], spec["code"] = rng.choice(FIVE_XX)
    elif kind == "throttle" and rng.random() < 0.5:
        spec["http_status"] = 429
    return spec


def _beyond_deadline(args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """Latency past the caller's deadline on a Create or Delete.

    The caller gives up and retries with the same request id while AWS still
    carries out the first request: the case idempotency exists for, so every
    latency phase has one.
    """
    operation = rng.choice(["CreateConnection", "DeleteConnection", "CreateHost", "DeleteHost"])
    service = None if operation in APPRUNNER_OPERATIONS else "codestar-connections"  # None: both services
    return {
        "operation": operation,
        "kind": "latency",
        "service": service,
        "count": None,
        "latency_ms": int(args.deadline * 1300),
    }


async def fault_schedule(
    control: EmulatorControl, args: argparse.Namespace, rng: random.Random, log: FaultLog
) -> None:
    """Cycles through the fault kinds on random operations: inject, hold, clear, rest."""
    try:
        while True:
            for kind in FAULT_KINDS:
                specs = [_fault(kind, args, rng) for _ in range(rng.randint(1, 3))]
                if kind == "latency":
                    specs.append(_beyond_deadline(args, rng))
                for spec in specs:
                    await control.inject_fault(**spec)
                    log.injected[kind] += 1
                if rng.random() < 0.2:  # App Runner's real habit: an empty page that carries a token
                    await control.empty_pages(
                        rng.randint(1, 3), service=rng.choice(["apprunner", "codestar-connections"])
                    )
                    log.injected["empty-pages"] += 1
                await asyncio.sleep(args.fault_hold)
                await control.clear_faults()
                await asyncio.sleep(args.fault_rest)
                await tally_upstream(control, log)
                log.phases += 1
    finally:
        with contextlib.suppress(Exception):
            await control.clear_faults()


async def tally_upstream(control: EmulatorControl, log: FaultLog) -> None:
    """Counts the AWS calls the server made and what they met, then empties the request log."""
    for entry in await control.requests():
        log.upstream_calls += 1
        log.upstream_outcomes[entry.get("ErrorCode") or str(entry.get("Status"))] += 1
    await control.clear_requests()


# ---- final state -------------------------------------------------------------------------


async def facade_listing(workload: Workload, service: str) -> tuple[dict[str, tuple[str, int]], int]:
    """Every connection by a consistent read (the first page asks AWS), and the store revision."""
    view: dict[str, tuple[str, int]] = {}
    revision = 0
    token = ""
    for _ in range(1000):
        if service == "apprunner":
            call = workload.apprunner.ListConnections(
                ar.ListConnectionsRequest(max_results=100, next_token=token),
                timeout=30,
                metadata=() if token else CONSISTENT,
            )
            response = await call
            items = [
                (c.connection_arn, c.connection_name, c.status) for c in response.connection_summary_list
            ]
        else:
            call = workload.codestar.ListConnections(
                cs.ListConnectionsRequest(max_results=100, next_token=token),
                timeout=30,
                metadata=() if token else CONSISTENT,
            )
            response = await call
            items = [(c.connection_arn, c.connection_name, c.connection_status) for c in response.connections]
        trailer = dict(await call.trailing_metadata() or ())
        revision = max(revision, int(trailer.get("x-connfacade-revision", 0)))
        view.update({arn: (name, status) for arn, name, status in items})
        token = response.next_token
        if not token:
            break
    return view, revision


async def emulator_state(emulator_url: str) -> dict[str, dict[str, list[str]]]:
    """Every resource in the emulator, by kind: name -> ARNs, straight from its AWS API."""
    session = get_session()
    state: dict[str, dict[str, list[str]]] = {k: collections.defaultdict(list) for k in KINDS}
    creds = {"aws_access_key_id": "soak", "aws_secret_access_key": "soak"}
    async with session.create_client(
        "apprunner", region_name=REGION, endpoint_url=emulator_url, **creds
    ) as client:
        kwargs: dict[str, Any] = {}
        while True:
            out = await client.list_connections(**kwargs)
            for c in out["ConnectionSummaryList"]:
                state["apprunner"][c["ConnectionName"]].append(c["ConnectionArn"])
            if not out.get("NextToken"):
                break
            kwargs = {"NextToken": out["NextToken"]}
    async with session.create_client(
        "codestar-connections", region_name=REGION, endpoint_url=emulator_url, **creds
    ) as client:
        for operation, key, name_member, arn_member, kind in (
            ("list_connections", "Connections", "ConnectionName", "ConnectionArn", "codestar"),
            ("list_hosts", "Hosts", "Name", "HostArn", "host"),
        ):
            kwargs = {"MaxResults": 100}
            while True:
                out = await getattr(client, operation)(**kwargs)
                for item in out[key]:
                    state[kind][item[name_member]].append(item[arn_member])
                if not out.get("NextToken"):
                    break
                kwargs = {"MaxResults": 100, "NextToken": out["NextToken"]}
    return state


def check_creates(res: Resources, state: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """Creates that took effect more than once, and deletes that did not take effect.

    Every create uses a new name, so a name's ARNs are: the one its create
    answered (if it answered) and any other still in AWS. Each one beyond the
    first is a duplicate, even if the soak deleted the one it knew of.
    """
    duplicates: dict[str, dict[str, list[str]]] = {}
    orphans: dict[str, list[str]] = {}
    deleted_but_present: dict[str, list[str]] = {}
    for kind in KINDS:
        known = {name: arn for arn, name in res.created[kind].items()}
        present = {arn for arns in state[kind].values() for arn in arns}
        duplicates[kind] = {}
        for name in res.names[kind]:
            arns = set(state[kind].get(name, ())) | ({known[name]} if name in known else set())
            if len(arns) > 1:
                duplicates[kind][name] = sorted(arns)
        orphans[kind] = sorted(n for n in res.names[kind] if n not in known and n in state[kind])
        deleted_but_present[kind] = sorted(a for a in res.deleted[kind] if a in present)
    return {
        "created": {k: len(res.created[k]) for k in KINDS},
        "deleted": {k: len(res.deleted[k]) for k in KINDS},
        "left": {k: sum(len(v) for v in state[k].values()) for k in KINDS},
        "duplicates": sum(len(arns) - 1 for d in duplicates.values() for arns in d.values()),
        "duplicate_names": {k: dict(list(v.items())[:10]) for k, v in duplicates.items()},
        "orphan_count": sum(len(v) for v in orphans.values()),
        "orphans": {k: v[:10] for k, v in orphans.items()},
        "deleted_but_present": {k: v[:10] for k, v in deleted_but_present.items()},
        "deleted_but_present_count": sum(len(v) for v in deleted_but_present.values()),
    }


def check_watcher(
    watcher: Watcher, created: dict[str, str], listing: dict[str, tuple[str, int]]
) -> dict[str, Any]:
    """Gaps and duplicates of one watcher against what the soak did and the final listing."""
    missing_added = [a for a in created if watcher.added[a] == 0]
    gone = [a for a in created if a not in listing]
    missing_deleted = [a for a in gone if watcher.deleted[a] == 0]
    view_missing = [a for a in listing if a not in watcher.view]
    view_extra = [a for a in watcher.view if a not in listing]
    view_stale = [a for a in listing if a in watcher.view and watcher.view[a] != listing[a]]
    duplicate_added = sum(n - 1 for n in watcher.added.values() if n > 1)
    duplicate_deleted = sum(n - 1 for n in watcher.deleted.values() if n > 1)
    gaps = (
        len(missing_added)
        + len(missing_deleted)
        + len(view_missing)
        + len(view_extra)
        + len(view_stale)
        + watcher.out_of_order
        + watcher.resyncs
    )
    duplicates = watcher.duplicate_revisions + duplicate_added + duplicate_deleted
    return {
        "service": watcher.service,
        "index": watcher.index,
        "streams": watcher.streams,
        "cut_by_soak": watcher.cut_by_soak,
        "resumed_from_trailer": watcher.resumed_from_trailer,
        "ends": dict(watcher.ends),
        "events": watcher.events,
        "bookmarks": watcher.bookmarks,
        "final_revision": watcher.max_revision,
        "view_size": len(watcher.view),
        "gaps": gaps,
        "duplicates": duplicates,
        "detail": {
            "created_not_seen_added": missing_added[:10],
            "deleted_not_seen_deleted": missing_deleted[:10],
            "view_missing": view_missing[:10],
            "view_extra": view_extra[:10],
            "view_stale": view_stale[:10],
            "out_of_order": watcher.out_of_order,
            "resyncs": watcher.resyncs,
            "duplicate_revisions": watcher.duplicate_revisions,
            "duplicate_added": duplicate_added,
            "duplicate_deleted": duplicate_deleted,
        },
    }


def read_audit(audit_dir: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(audit_dir.glob("audit.jsonl*")):
        if path.suffix in {".head", ".lock"}:
            continue
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


async def verify_audit(audit_dir: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "audit",
        "verify",
        str(audit_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode().strip()


def check_audit(tally: Tally, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Mutation attempts against audit records: by method, and attempt by attempt (request ids).

    The record of an attempt is the one that says how it ended (its completion, or its one
    outcome record); intents are paired with completions by `audit verify`.
    """
    mutations = [
        r
        for r in records
        if r.get("eventName") in MUTATIONS and r.get("readOnly") is False and r.get("stage") != "intent"
    ]
    recorded = collections.Counter(r["method"] for r in mutations)
    by_method = {
        m: {"sent": tally.mutation_attempts[m], "recorded": recorded[m]}
        for m in sorted(set(recorded) | set(tally.mutation_attempts))
    }
    ids = collections.Counter(r.get("requestID", "") for r in mutations)
    missing = sum(max(0, n - ids[i]) for i, n in tally.request_ids.items())
    extra = sum(max(0, n - tally.request_ids[i]) for i, n in ids.items())
    return {
        "mutations_sent": sum(tally.mutation_attempts.values()),
        "records": len(mutations),
        "records_all": len(records),
        "by_method": by_method,
        "by_status": dict(collections.Counter(r.get("statusCode", "?") for r in mutations).most_common()),
        "attempts_without_record": missing,
        "records_without_attempt": extra,
    }


# ---- the run -----------------------------------------------------------------------------


def _watchers(workload: Workload, args: argparse.Namespace) -> list[Watcher]:
    interval = Duration(seconds=1)  # quiet streams still advance: the end-of-run catch-up relies on it
    out = []
    for i in range(args.watchers):
        out.append(
            Watcher(
                "apprunner",
                i,
                lambda token: workload.apprunner.WatchConnections(
                    ar.WatchConnectionsRequest(resume_token=token, bookmark_interval=interval)
                ),
                lambda c: c.status,
                ar.CONNECTION_STATUS_DELETED,
                args.stream_lifetime,
            )
        )
        out.append(
            Watcher(
                "codestar",
                i,
                lambda token: workload.codestar.WatchConnections(
                    cs.WatchConnectionsRequest(resume_token=token, bookmark_interval=interval)
                ),
                lambda c: c.connection_status,
                cs.CONNECTION_STATUS_DELETED,
                args.stream_lifetime,
            )
        )
    return out


async def cancel_all(tasks: list[asyncio.Task[Any]] | set[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _raise_if_failed(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            raise RuntimeError("a soak task failed") from error


async def drive(server: Server, workload: Workload, control: EmulatorControl, faults: FaultLog) -> float:
    """Workers, faults and handshakes for the duration; the seconds it took. Raises if the server dies."""
    args = workload.args
    began = time.monotonic()
    stop_at = began + args.duration
    fault_task = asyncio.create_task(fault_schedule(control, args, workload.rng, faults))
    handshake_task = asyncio.create_task(workload.handshaker())
    workers = [asyncio.create_task(workload.worker(stop_at)) for _ in range(args.concurrency)]
    try:
        while not all(t.done() for t in workers):
            await asyncio.wait(workers, timeout=1)
            if server.proc.returncode is not None:
                raise RuntimeError(f"the server exited during the soak (code {server.proc.returncode})")
            _raise_if_failed([fault_task, handshake_task, *workers])
            if time.monotonic() >= stop_at:
                await cancel_all([fault_task])  # faults end with the duration; retries in flight then succeed
        soaked = time.monotonic() - began
        # Waiters end by their deadline at the latest; the handshakes still queued no longer matter.
        await asyncio.gather(*workload.waiters, return_exceptions=True)
    finally:
        await cancel_all([fault_task, handshake_task, *workers])
    await control.clear_faults()
    await tally_upstream(control, faults)
    return soaked


async def settle(
    workload: Workload, watchers: list[Watcher], settle_s: float
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A few poll periods, a consistent listing, every watcher caught up to it; then the watch checks."""
    await asyncio.sleep(settle_s)
    listings = {}
    revisions = {}
    for service in ("apprunner", "codestar"):
        listings[service], revisions[service] = await facade_listing(workload, service)
    async with asyncio.timeout(30):
        for w in watchers:
            await w.reach(revisions[w.service])
    checks = [check_watcher(w, workload.res.created[w.service], listings[w.service]) for w in watchers]
    return checks, revisions


def invariants_of(
    codes: dict[str, int],
    checks: list[dict[str, Any]],
    audit: dict[str, Any],
    creates: dict[str, Any],
    exit_code: int | None,
) -> dict[str, dict[str, Any]]:
    never = {c: n for c, n in codes.items() if c in NEVER_CODES}
    unexpected = {c: n for c, n in codes.items() if c not in EXPECTED_CODES | NEVER_CODES}
    gaps = sum(c["gaps"] for c in checks)
    dups = sum(c["duplicates"] for c in checks)
    audit_equal = (
        audit["records"] == audit["mutations_sent"]
        and audit["attempts_without_record"] == 0
        and audit["records_without_attempt"] == 0
    )
    return {
        "no_internal_or_unknown": {"ok": not never, "value": never},
        "no_unexpected_codes": {"ok": not unexpected, "value": unexpected},
        "watch_gaps_zero": {"ok": gaps == 0, "value": gaps},
        "watch_duplicates_zero": {"ok": dups == 0, "value": dups},
        "audit_verifies": {"ok": audit["verify_ok"], "value": audit["verify"]},
        "audit_records_equal_mutations": {
            "ok": audit_equal,
            "value": f"{audit['records']} records / {audit['mutations_sent']} mutations",
        },
        "duplicate_creates_zero": {"ok": creates["duplicates"] == 0, "value": creates["duplicates"]},
        "create_conflicts_zero": {
            "ok": creates["create_conflicts"] == 0,
            "value": creates["create_conflicts"],
        },
        "deleted_are_gone": {
            "ok": creates["deleted_but_present_count"] == 0,
            "value": creates["deleted_but_present_count"],
        },
        # A crash mid-run raises before this point; here the server lived until SIGTERM.
        "server_exit_zero": {"ok": exit_code == 0, "value": exit_code},
    }


async def soak(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    audit_dir = workdir / "audit"
    audit_dir.mkdir()
    limits = [
        f"--{name.replace('_', '-')}={value}"
        for name in ("idempotency_window", "history_limit")
        if (value := getattr(args, name)) is not None
    ]
    server = await Server.start(workdir, audit_dir, limits)
    print(f"server pid {server.proc.pid} on {server.address}, emulator {server.emulator}", flush=True)
    faults = FaultLog()
    try:
        async with (
            grpc.aio.insecure_channel(server.address) as channel,
            EmulatorControl(server.emulator) as control,
        ):
            await asyncio.wait_for(channel.channel_ready(), 30)
            workload = Workload(channel, control, args)
            watchers = _watchers(workload, args)
            watch_tasks = [
                asyncio.create_task(
                    w.run(workload.tally, ar if w.service == "apprunner" else cs, workload.rng)
                )
                for w in watchers
            ]
            async with asyncio.timeout(30):
                for w in watchers:
                    await w.synced.wait()
            rss_start = rss_mb(server.proc.pid)
            print(
                f"{len(watchers)} watchers synced; RSS {rss_start:.1f} MB; soaking for {args.duration:g} s",
                flush=True,
            )
            rss_samples: list[tuple[float, float]] = []
            sampler = asyncio.create_task(sample_rss(server.proc.pid, args.rss_every, rss_samples))
            try:
                soaked = await drive(server, workload, control, faults)
            finally:
                await cancel_all([sampler])
            checks, revisions = await settle(workload, watchers, args.settle)
            state = await emulator_state(server.emulator)
            rss_end = rss_mb(server.proc.pid)
            for w in watchers:
                w.stopping = True
            await cancel_all(watch_tasks)
        # SIGTERM first: the audit file is complete and flushed once the server has exited.
        exit_code, shutdown_s = await server.terminate()
    finally:
        if server.proc.returncode is None:
            await server.terminate()
    verify_code, verify_text = await verify_audit(audit_dir)
    audit = check_audit(workload.tally, read_audit(audit_dir)) | {
        "verify": verify_text,
        "verify_ok": verify_code == 0,
    }
    creates = check_creates(workload.res, state) | {"create_conflicts": workload.create_conflicts}
    codes = workload.tally.by_code()
    invariants = invariants_of(codes, checks, audit, creates, exit_code)
    error_lines = server.error_lines()
    return {
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "soaked_s": soaked,
        "calls_total": sum(workload.tally.calls.values()),
        "calls_by_code": codes,
        "calls": workload.tally.by_rpc(),
        "retries": dict(workload.tally.retries),
        "notes": dict(workload.tally.notes),
        "handshakes": dict(workload.handshaken),
        "faults": {
            "phases": faults.phases,
            "injected": dict(faults.injected),
            "upstream_calls": faults.upstream_calls,
            "upstream_outcomes": dict(faults.upstream_outcomes.most_common()),
        },
        "watch": {
            "gaps": sum(c["gaps"] for c in checks),
            "duplicates": sum(c["duplicates"] for c in checks),
            "revisions": revisions,
            "watchers": checks,
        },
        "audit": audit,
        "creates": creates,
        "server": {
            "rss_start_mb": rss_start,
            "rss_end_mb": rss_end,
            "rss_samples": rss_samples,
            "rss_growth": rss_growth(rss_samples),
            "shutdown_s": shutdown_s,
            "exit_code": exit_code,
            "error_log_lines": len(error_lines),
            "error_log_sample": error_lines[:5],
        },
        "invariants": invariants,
        "ok": all(v["ok"] for v in invariants.values()),
    }


def summary(result: dict[str, Any]) -> str:
    lines = [f"soaked {result['soaked_s']:.0f} s: {result['calls_total']} calls"]
    lines.append("  by code: " + ", ".join(f"{c} {n}" for c, n in result["calls_by_code"].items()))
    for rpc, codes in result["calls"].items():
        lines.append(f"  {rpc:<32} " + "  ".join(f"{c} {n}" for c, n in codes.items()))
    lines.append("  retries: " + (", ".join(f"{r} {n}" for r, n in result["retries"].items()) or "none"))
    f = result["faults"]
    lines.append(
        f"faults: {f['phases']} phases, injected "
        + ", ".join(f"{k} {n}" for k, n in f["injected"].items())
        + f"; upstream calls {f['upstream_calls']}: "
        + ", ".join(f"{k} {n}" for k, n in f["upstream_outcomes"].items())
    )
    w = result["watch"]
    lines.append(f"watchers: gaps {w['gaps']}, duplicates {w['duplicates']}")
    lines.extend(
        f"  {c['service']}[{c['index']}]: {c['events']} events over {c['streams']} streams "
        f"({c['cut_by_soak']} cut and resumed, {c['resumed_from_trailer']} from a trailer token), "
        f"view {c['view_size']}, gaps {c['gaps']}, duplicates {c['duplicates']}"
        for c in w["watchers"]
    )
    a = result["audit"]
    lines.append(
        f"audit: {a['records']} mutation records / {a['mutations_sent']} mutation calls "
        f"(attempts without record {a['attempts_without_record']}, records without attempt "
        f"{a['records_without_attempt']}); verify: {a['verify']}"
    )
    c = result["creates"]
    lines.append(
        "creates: "
        + ", ".join(f"{k} {n}" for k, n in c["created"].items())
        + f"; deleted: {', '.join(f'{k} {n}' for k, n in c['deleted'].items())}"
        + f"; duplicates {c['duplicates']}, orphans {c['orphan_count']}, conflicts {c['create_conflicts']}"
    )
    s = result["server"]
    if growth := s["rss_growth"]:
        lines.append(
            f"RSS peak rose {growth['first_half_mb']:+.1f} MB in the first half of the run, "
            f"{growth['second_half_mb']:+.1f} MB in the second"
        )
    lines.append(
        f"server: RSS {s['rss_start_mb']:.1f} MB at start, {s['rss_end_mb']:.1f} MB at end; "
        f"SIGTERM to exit {s['shutdown_s'] * 1000:.0f} ms, exit code {s['exit_code']}; "
        f"error log lines {s['error_log_lines']}"
    )
    broken = [name for name, v in result["invariants"].items() if not v["ok"]]
    lines.append(
        "invariants: all held"
        if not broken
        else "INVARIANTS BROKEN: " + ", ".join(f"{n} ({result['invariants'][n]['value']})" for n in broken)
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="soak a real server under load and faults, then check invariants"
    )
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of workload (default 180)")
    parser.add_argument("--concurrency", type=int, default=8, help="workers calling back to back")
    parser.add_argument("--watchers", type=int, default=2, help="WatchConnections streams per service")
    parser.add_argument("--waiters", type=int, default=16, help="WaitForConnection calls open at most")
    parser.add_argument("--wait-share", type=float, default=0.5, help="share of new connections waited for")
    parser.add_argument("--deadline", type=float, default=3.0, help="seconds per call")
    parser.add_argument("--max-attempts", type=int, default=10, help="attempts per create or delete")
    parser.add_argument(
        "--pause", type=float, default=0.005, help="mean seconds a worker rests between calls"
    )
    parser.add_argument("--fault-hold", type=float, default=2.0, help="seconds each set of faults stays")
    parser.add_argument("--fault-rest", type=float, default=1.0, help="seconds without faults between sets")
    parser.add_argument(
        "--stream-lifetime",
        type=float,
        nargs=2,
        default=(3.0, 10.0),
        metavar=("MIN", "MAX"),
        help="seconds before the soak cuts a watch stream and resumes it",
    )
    parser.add_argument("--settle", type=float, default=3.0, help="seconds the store gets after the faults")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable mix")
    parser.add_argument(
        "--rss-every", type=float, default=10.0, help="seconds between samples of the server's RSS"
    )
    parser.add_argument(
        "--idempotency-window",
        type=float,
        default=None,
        help="the server's --idempotency-window (default: the server's, 600 s); shorter levels RSS sooner",
    )
    parser.add_argument(
        "--history-limit",
        type=int,
        default=None,
        help="the server's --history-limit (default: the server's, 10000 events); smaller levels RSS sooner",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server log, audit file)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="connfacade-soak-"))
    try:
        result = await soak(args, workdir)
    except BaseException:
        print(f"soak failed; server log and audit file kept in {workdir}", file=sys.stderr)
        raise
    print(summary(result))
    write_results(args.out, "soak", result)
    if args.keep or not result["ok"]:
        print(f"server log and audit file kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
