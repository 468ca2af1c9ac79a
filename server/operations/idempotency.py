"""Idempotent mutations (AIP-155): a retried request with the same request id runs once.

A caller that sends a UUID in `x-request-id` may retry a Create or Delete
after a timeout or a lost connection: within the window, the retry gets the
first call's answer instead of creating a second resource or failing on the
name. Reusing the id for different parameters (or for another service's
RPC) is a mistake and is refused. Failures are not remembered, so a retry
after a failure really retries. A call whose caller gave up (its deadline
passed, it cancelled) runs on to AWS's answer, because AWS may already be
acting on it: a retry waits for that answer instead of asking AWS a second
time. The unit that runs once is the whole mutation, write-through to the
store included, so a replayed answer never writes an old state over a newer
one.

Request ids survive a restart: at start the server `restore`s the answers its
audit log holds for the window (each mutation's intent records its key and a
fingerprint of its parameters, its completion what AWS made). A retry of such
a call is answered by the operation's ``replay`` (the resource as it is now)
instead of calling AWS again; if the first call's outcome is not known yet
(its intent has no completion), the retry is UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from connfacade.client import policy
from connfacade.server import callcontext
from connfacade.server.deadlines import bounded
from connfacade.server.domain import FieldViolation, InvalidArgument, Unavailable
from connfacade.server.security import caller

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from connfacade.server.domain import Service

T = TypeVar("T")
REQUEST_ID_FIELD = "x-request-id"
DEFAULT_WINDOW = 600.0  # seconds a request id is remembered
IDEMPOTENT_OPERATIONS = policy.IDEMPOTENT  # creates and deletes (connfacade.client.policy)


def idempotency_key() -> str | None:
    """The current call's request id, if the caller sent one that is a UUID, within its principal.

    A request id belongs to one caller: another principal reusing it must not
    be handed the first caller's answer.
    """
    call = callcontext.current()
    if call is None or not call.request_id_supplied:
        return None
    try:
        return f"{caller().name}/{uuid.UUID(call.request_id)}"
    except ValueError:
        return None


def fingerprint(service: Service, operation: str, params: Mapping[str, Any]) -> str:
    """What a request asked for, so that a reuse with other parameters is recognised."""
    body = json.dumps([service.value, operation, params], sort_keys=True, default=str).encode()
    return hashlib.sha256(body).hexdigest()


@dataclass
class _Entry:
    fingerprint: str
    result: asyncio.Future[Any]
    expires: float
    call: callcontext.CallContext | None = None  # the first call's own context: AWS's request id lands there


@dataclass
class _Recorded:
    """A first answer known from the audit log (restored at start), not from this process's memory."""

    fingerprint: str
    expires: float
    arn: str  # what the first call made ("" if nothing, or not known)
    settled: bool  # False: the first call's outcome is not known (its intent has no completion)


class IdempotencyCache:
    """Results of recent mutations by request id, for every service of the process."""

    def __init__(self, window: float = DEFAULT_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        # Oldest first: every entry gets the same window on a monotonic clock, so
        # insertion order is expiry order and expiring stops at the first live one.
        # (An OrderedDict, not a dict: a dict's first key after many deletions
        # from its front is found by skipping every deleted slot.)
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._running: set[asyncio.Task[Any]] = set()
        self._recorded: dict[str, _Recorded] = {}
        self.record_fingerprint: Callable[[Service, str, Mapping[str, Any]], str] = fingerprint
        """How the audit log fingerprints parameters (redacted first): what restored answers compare."""

    def restore(self, key: str, *, fingerprint: str, age: float, arn: str = "", settled: bool = True) -> None:
        """Remembers a first answer from the audit log, ``age`` seconds old (ignored beyond the window)."""
        if self.window > 0 and age < self.window:
            self._recorded[key] = _Recorded(fingerprint, self._clock() + self.window - age, arn, settled)

    def _restored(self, key: str, now: float) -> _Recorded | None:
        recorded = self._recorded.get(key)
        if recorded is not None and recorded.expires <= now:
            del self._recorded[key]
            return None
        return recorded

    @property
    def remembered(self) -> int:
        """How many request ids are remembered."""
        return len(self._entries)

    def _expire(self, now: float) -> None:
        """Forgets the ids whose window has passed, in O(expired)."""
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.expires > now:
                return
            del self._entries[key]

    async def run(
        self,
        service: Service,
        operation: str,
        params: Mapping[str, Any],
        call: Callable[[], Awaitable[T]],
        replay: Callable[[str], Awaitable[T]] | None = None,
    ) -> T:
        """``call()`` once per request id and parameters; without a request id, simply ``call()``.

        ``replay(arn)`` answers a retry of a call this process knows only
        from the audit log (`restore`): ``arn`` is what the first call made.
        """
        key = idempotency_key()
        if key is None or self.window <= 0:
            return await call()
        now = self._clock()
        self._expire(now)
        print_ = fingerprint(service, operation, params)
        entry = self._entries.get(key)
        if entry is None and (recorded := self._restored(key, now)) is not None:
            return await self._replay(recorded, service, operation, params, replay)
        if entry is not None:
            if entry.fingerprint != print_:
                raise InvalidArgument(
                    [
                        FieldViolation(
                            REQUEST_ID_FIELD,
                            "this request id was already used for a request with other parameters",
                        )
                    ]
                )
            try:
                async with bounded("waiting for the first call with this request id"):
                    result: T = await asyncio.shield(entry.result)
            finally:
                # The retry's record and trailer name the AWS request id of the call it joined.
                if entry.call is not None:
                    callcontext.record_aws_request_id(entry.call.aws_request_id)
            return result
        # Its own task, without the caller's deadline: a caller that gives up
        # (deadline, cancel) must not cut short a request AWS may already be
        # carrying out, or its retry would do it twice. The retry joins it instead;
        # the work stays bounded by botocore's own timeouts.
        context, own = callcontext.shared()
        task: asyncio.Task[T] = asyncio.get_running_loop().create_task(_run(call), context=context)
        entry = _Entry(print_, task, now + self.window, own)
        self._entries[key] = entry
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda done: self._forget_failure(key, entry, done))
        try:
            async with bounded("waiting for AWS"):
                result = await asyncio.shield(task)
        finally:
            # Also on failure: the caller's error and audit record name AWS's request id.
            callcontext.record_aws_request_id(own.aws_request_id)
        return result

    async def _replay(
        self,
        recorded: _Recorded,
        service: Service,
        operation: str,
        params: Mapping[str, Any],
        replay: Callable[[str], Awaitable[T]] | None,
    ) -> T:
        if recorded.fingerprint != self.record_fingerprint(service, operation, params):
            raise InvalidArgument(
                [
                    FieldViolation(
                        REQUEST_ID_FIELD,
                        "this request id was already used for a request with other parameters",
                    )
                ]
            )
        if not recorded.settled or replay is None:
            raise Unavailable(
                "the first call with this request id may have changed AWS, and its outcome is not known yet "
                "(its audit intent has no completion); not calling AWS again",
                retry_after=5.0,
                aws_code="OutcomeUnknown",
            )
        return await replay(recorded.arn)

    async def settle(self, grace: float) -> int:
        """Waits up to ``grace`` s for mutations whose callers gave up; cancels what is left.

        At shutdown: AWS may be carrying them out, and their write-through keeps
        the store (and its watchers) in step. Returns how many were cut short.
        """
        pending = set(self._running)
        if not pending:
            return 0
        _, late = await asyncio.wait(pending, timeout=max(grace, 0))
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        return len(late)

    def _forget_failure(self, key: str, entry: _Entry, done: asyncio.Future[Any]) -> None:
        """Failures are not remembered: the retry of a failed call must really retry."""
        # exception() marks it retrieved, so a failure nobody awaited is not reported.
        failed = done.cancelled() or done.exception() is not None
        if failed and self._entries.get(key) is entry:
            del self._entries[key]


async def _run(call: Callable[[], Awaitable[T]]) -> T:
    return await call()
