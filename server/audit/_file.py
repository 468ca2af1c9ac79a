"""The append-only, hash-chained audit file, rotated by size, continued across restarts."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, get_args

from connfacade.server.audit._chain import (
    LOCK_SUFFIX,
    ZERO_HASH,
    Head,
    HeadFile,
    chain_line,
    encode_body,
    head_path,
    line_hash,
    restart_marker,
    rotated_path,
    write_all,
)
from connfacade.server.audit._groupcommit import GroupCommit
from connfacade.server.audit._recovery import DiskChain, load
from connfacade.server.audit._redact import redact
from connfacade.server.audit._sink import AuditSinkError, observed

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterator, Mapping
    from types import TracebackType

FsyncPolicy = Literal["always", "batch", "never"]

_T = TypeVar("_T")
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_MODE = 0o640
_REMEMBERED = 4096  # eventIDs kept to recognise a retried record: more than writers in one failed batch


class FileSink:
    """Appends one JSON line per record, each holding the SHA-256 of the line before it.

    ``fsync``: ``"always"`` fsyncs every record before `write` returns;
    ``"batch"`` (group commit) makes `write` wait for an fsync that started
    after its record was appended, shared with the writers of the same moment,
    and started at most ``fsync_interval`` seconds after the append; ``"never"``
    leaves it to the kernel (a power loss can lose recent records; a crash of
    the process alone cannot, as every line is written before `write` returns).
    ``fsync_fn`` does the fsync (tests count calls through it).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = 100 * 2**20,
        fsync: FsyncPolicy = "batch",
        fsync_interval: float = 0.05,
        fsync_fn: Callable[[int], None] = os.fsync,
        observe: Callable[[float, bool], None] | None = None,
    ) -> None:
        if fsync not in get_args(FsyncPolicy):
            raise ValueError(f"fsync must be one of {get_args(FsyncPolicy)}, not {fsync!r}")
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if fsync_interval < 0:
            raise ValueError("fsync_interval must not be negative")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.fsync: FsyncPolicy = fsync
        self._fsync_fn = fsync_fn
        self._observe = observe
        # One append at a time: lines never interleave, the chain follows append order.
        self._lock = asyncio.Lock()
        self._group = GroupCommit(self._sync_batch, fsync_interval) if fsync == "batch" else None
        self._fd: int | None = None
        self._head: HeadFile | None = None
        self._lock_fd: int | None = None
        self._broken = False  # a write failed: reopen from disk before the next one
        self._closed = False
        self._sequence = 0
        self._hash = ZERO_HASH
        self._last_file = ""
        self._size = 0
        self._live_first: int | None = None
        self._appended: dict[str, None] = {}  # eventIDs of the latest records appended (bounded)
        self.chain_break = ""
        """Why, when it last opened, the sink could not continue the chain on disk ("" if it could)."""

    @property
    def sequence(self) -> int:
        """The sequence of the last record written (0: none)."""
        return self._sequence

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Creates the directory and picks the chain up from disk; the first `write` does it if not called.

        If the end of the log on disk is damaged, the damaged live file is set
        aside under its rotated name, and a new live file starts with a
        restart marker record that names the break (see `chain_break`).
        Raises AuditSinkError if the log cannot be opened for writing.
        """
        async with self._lock:
            if self._closed:
                raise AuditSinkError(f"the audit file {self.path} is closed")
            if self._fd is None or self._broken:
                await _complete(self._reopen())

    async def write(self, record: Mapping[str, Any]) -> None:
        """Appends ``record`` (secrets redacted) as one line; durable per the fsync policy on return."""
        started = time.perf_counter()
        ok = False
        try:
            body = encode_body(redact(record))
            commit: asyncio.Future[None] | None = None
            async with self._lock:
                if self._closed:
                    raise AuditSinkError(f"the audit file {self.path} is closed")
                if self._fd is None or self._broken:
                    await _complete(self._reopen())
                event_id = record.get("eventID")
                if isinstance(event_id, str) and event_id in self._appended:
                    # A retry of a record whose append succeeded and whose fsync (or head) failed:
                    # it is in the log already, and a second copy would be a second record.
                    if self.fsync != "never":
                        await _complete(self._sync_now())
                    ok = True
                    return
                sequence = self._sequence + 1
                line = chain_line(body, sequence, self._hash)
                if self._size > 0 and self._size + len(line) + 1 > self.max_bytes:
                    await _complete(self._rotate())
                with self._io("appending"):
                    self._append(line, sequence)
                if isinstance(event_id, str):
                    self._remember(event_id)
                if self.fsync == "always":
                    await _complete(self._sync_now())
                with self._io("updating the head file"):
                    self._write_head()
                if self._group is not None:
                    commit = self._group.join()
            if commit is not None:
                await asyncio.shield(commit)
            ok = True
        finally:
            observed(self._observe, time.perf_counter() - started, ok)

    async def aclose(self) -> None:
        """Waits for pending fsyncs, fsyncs once more (whatever the policy) and closes the file."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._group is not None:
                    await self._group.aclose()
                if self._fd is not None and not self._broken:
                    await self._sync_now()
            finally:
                self._close_fd()
                if self._lock_fd is not None:
                    os.close(self._lock_fd)  # releases the flock
                    self._lock_fd = None

    # --- under the lock ---------------------------------------------------------

    def _remember(self, event_id: str) -> None:
        self._appended[event_id] = None
        if len(self._appended) > _REMEMBERED:
            del self._appended[next(iter(self._appended))]

    def _append(self, line: bytes, sequence: int) -> None:
        fd = self._require_fd()
        data = line + b"\n"
        try:
            write_all(fd, data)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._size)  # leave no partial line behind
            raise
        self._sequence = sequence
        self._hash = line_hash(line)
        self._size += len(data)
        self._last_file = self.path.name
        if self._live_first is None:
            self._live_first = sequence

    def _write_head(self) -> None:
        if self._head is None:
            self._head = HeadFile(head_path(self.path))
        self._head.write(Head(self._sequence, self._hash, self._last_file))

    async def _sync_now(self) -> None:
        fd = self._require_fd()
        with self._io("fsync"):
            await asyncio.to_thread(self._fsync_fn, fd)

    async def _sync_batch(self) -> None:
        # The group commit drains before any close, so this is the fd the batch appended to.
        await self._sync_now()

    async def _rotate(self) -> None:
        if self._group is not None:
            await self._group.drain()
            if self._broken:
                raise AuditSinkError(f"audit file {self.path}: an fsync failed; reopening on the next write")
        old = self._require_fd()
        with self._io("rotating"):
            if self.fsync != "never":
                # The old file is complete on disk before its rename.
                await asyncio.to_thread(self._fsync_fn, old)
            target = rotated_path(self.path, self._live_first or self._sequence + 1)
            if target.exists():
                raise AuditSinkError(f"cannot rotate {self.path.name}: {target.name} already exists")
            self.path.rename(target)
            self._last_file = target.name
            self._fd = os.open(self.path, _FLAGS, _MODE)
            os.close(old)
            self._size = 0
            self._live_first = None
            if self.fsync != "never":
                await asyncio.to_thread(self._sync_dir)

    async def _reopen(self) -> None:
        if self._group is not None:
            await self._group.drain()  # no fsync of the old descriptor may outlive it
        self._close_fd()
        await asyncio.to_thread(self._open_sync)
        self._broken = False

    def _open_sync(self) -> None:
        with self._io("opening"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._take_writer_lock()
            created = not self.path.exists()
            disk = load(self.path)
            if disk.problem:
                self._restart_after_break(disk)
                return
            self._fd = os.open(self.path, _FLAGS, _MODE)
            self._size = os.fstat(self._fd).st_size
            self._live_first = disk.live_first
            self._sequence, self._hash, self._last_file = disk.sequence, disk.hash, disk.file
            self.chain_break = ""
            if disk.head_behind:
                self._write_head()
            if created and self.fsync != "never":
                self._sync_dir()

    def _restart_after_break(self, disk: DiskChain) -> None:
        reason = disk.problem
        if self.path.exists() and self.path.stat().st_size > 0:
            target = rotated_path(self.path, disk.live_first or disk.sequence + 1)
            if target.exists():
                raise AuditSinkError(
                    f"the audit log {self.path} is damaged ({reason}) and cannot be set aside: "
                    f"{target.name} exists"
                )
            self.path.rename(target)
            reason += f"; {self.path.name} was set aside as {target.name}"
        self._fd = os.open(self.path, _FLAGS, _MODE)
        self._size = 0
        self._live_first = None
        self._hash = disk.hash
        marker = restart_marker(reason, datetime.now(tz=UTC).isoformat())
        self._append(chain_line(encode_body(marker), disk.next_sequence, disk.hash), disk.next_sequence)
        if self.fsync != "never":
            self._fsync_fn(self._fd)
            self._sync_dir()
        self._write_head()
        self.chain_break = reason

    def _take_writer_lock(self) -> None:
        if self._lock_fd is not None:
            return
        lock_path = self.path.with_name(self.path.name + LOCK_SUFFIX)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AuditSinkError(
                f"another writer holds {lock_path}: two writers would fork the chain of {self.path}"
            ) from None
        self._lock_fd = fd

    def _sync_dir(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            self._fsync_fn(fd)
        finally:
            os.close(fd)

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._head is not None:
            with contextlib.suppress(OSError):
                self._head.close()
            self._head = None

    def _require_fd(self) -> int:
        if self._fd is None:
            raise AuditSinkError(f"the audit file {self.path} is not open")
        return self._fd

    @contextlib.contextmanager
    def _io(self, doing: str) -> Iterator[None]:
        """The one place OS errors become AuditSinkError; the next write reopens from disk."""
        try:
            yield
        except OSError as err:
            self._broken = True
            raise AuditSinkError(f"audit file {self.path}: {doing} failed: {err}") from err


async def _complete(step: Coroutine[Any, Any, _T]) -> _T:
    """Runs a step that must not stop halfway: a cancelled caller still waits for it, then is cancelled."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # the writer is gone; a failure is remembered by the sink (broken)
        raise
