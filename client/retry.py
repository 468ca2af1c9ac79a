"""When and how the clients retry a call the facade could not serve now.

Only UNAVAILABLE is retried: AWS throttling or failing after the facade's own
retries, an open circuit breaker, a server shutting down or not reachable.
Every unary RPC is safe to retry then: reads and tag changes by nature, and
creates and deletes because the client sends them with a UUID
``x-request-id``, which the facade uses to answer a retry with the first
call's result instead of acting twice (AIP-155). A create or delete whose
caller set a request id that is not a UUID is not retried: the facade would
not recognise the retry.

A retry waits the longer of its backoff (exponential, full jitter) and the
server's ``RetryInfo``; a wait longer than ``max_backoff``, or one that would
outlast the call's deadline, ends the retries and the error is raised. The
call's ``timeout`` bounds all of its attempts together.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connfacade.client._convert import MetadataPairs
    from connfacade.client.errors import ConnfacadeError

REQUEST_ID_KEY = "x-request-id"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times, and how patiently, a client calls again after UNAVAILABLE.

    ``RetryPolicy(max_attempts=1)`` turns retries off.
    """

    max_attempts: int = 3  # calls in all, the first included
    initial_backoff: float = 0.1  # seconds before the first retry (before jitter)
    max_backoff: float = 5.0  # the longest single wait; a server asking for more is not retried

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoffs must not be negative")


NO_RETRY = RetryPolicy(max_attempts=1)


def with_request_id(metadata: MetadataPairs) -> tuple[MetadataPairs, bool]:
    """The metadata with a UUID request id added unless the caller set one, and whether retries are safe.

    Safe means the request id is a UUID, so that the facade deduplicates a retry.
    """
    for key, value in metadata:
        if key == REQUEST_ID_KEY:
            try:
                uuid.UUID(value)
            except ValueError:
                return metadata, False
            return metadata, True
    return (*metadata, (REQUEST_ID_KEY, str(uuid.uuid4()))), True


class Attempts:
    """The attempts of one call: the time left for each, and the wait before the next."""

    def __init__(self, policy: RetryPolicy, timeout: float | None, *, retry: bool = True) -> None:
        self._policy = policy if retry else NO_RETRY
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._made = 0

    def begin(self) -> float | None:
        """Starts an attempt; its deadline in seconds from now (the call's, whatever is left of it)."""
        self._made += 1
        if self._deadline is None:
            return None
        return max(self._deadline - time.monotonic(), 0.0)

    def pause_after(self, error: ConnfacadeError) -> float | None:
        """Seconds to wait before trying again after ``error``, or None to give up and raise it."""
        if self._made >= self._policy.max_attempts:
            return None
        backoff = random.uniform(0, self._policy.initial_backoff * 2 ** (self._made - 1))  # noqa: S311 - jitter
        pause = max(backoff, error.retry_delay or 0.0)
        if pause > self._policy.max_backoff:
            return None
        if self._deadline is not None and time.monotonic() + pause >= self._deadline:
            return None
        return pause
