"""Per-call facts that lower layers record and the gRPC boundary reports.

A grpc.aio handler runs in its own task, so a ContextVar set at the start of a
call is that call's alone; the backend records the AWS request id here instead
of threading it through every return value. The caller's deadline lives here
too, so that every wait and AWS call made for the caller ends before it.

Only ambient facts live here: what a call asks for and what it is answered
travel as arguments and return values. This module imports nothing of the
project's, so that every layer may use it.
"""

from __future__ import annotations

import contextvars
import dataclasses
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

# Work for a caller stops this long before its deadline, so that the facade
# still has time to write the audit record and answer DEADLINE_EXCEEDED itself
# before gRPC cancels the handler.
DEADLINE_MARGIN = 0.1

_current: ContextVar[CallContext | None] = ContextVar("connfacade_call", default=None)


class WriteAhead(Protocol):
    """The current call's audit, as the layer just before AWS sees it (write-ahead records)."""

    # ``service`` is the domain's Service; Any, as this module imports nothing of the project's.
    async def intent(self, service: Any, operation: str, params: Mapping[str, Any]) -> None:
        """Makes the intent to call ``operation`` durable; raises (AWS must not be called) if it cannot."""
        ...

    def answered(self, aws_request_id: str, outcome: str, resource_arn: str = "") -> None:
        """Notes how the AWS call the intent announced ended (``OK``, AWS's error code, ``NoAnswer``).

        ``resource_arn``: what a create made, as AWS answered it.
        """
        ...


@dataclass(slots=True)
class CallContext:
    """What one RPC learned on its way through the layers."""

    request_id: str
    method: str = ""
    aws_request_id: str = ""
    request_id_supplied: bool = False  # the caller sent x-request-id (idempotency keys on it)
    deadline: float | None = None  # time.monotonic() when the caller stops waiting; None: never
    write_ahead: WriteAhead | None = None  # a mutation's audit: its intent precedes the AWS call


def begin(request_id: str, method: str = "") -> CallContext:
    """Starts the context of the current call and returns it."""
    ctx = CallContext(request_id=request_id, method=method)
    _current.set(ctx)
    return ctx


def current() -> CallContext | None:
    """The current call's context, if a call is in progress."""
    return _current.get()


def record_aws_request_id(request_id: str) -> None:
    """Remembers the id of the latest AWS response for the current call."""
    ctx = _current.get()
    if ctx is not None and request_id:
        ctx.aws_request_id = request_id


def write_ahead() -> WriteAhead | None:
    """The audit the current call's AWS mutation must write its intent to (None: no audited call)."""
    ctx = _current.get()
    return ctx.write_ahead if ctx is not None else None


def remaining() -> float | None:
    """Seconds the current call may still work (its deadline less the margin); None: no deadline."""
    ctx = _current.get()
    if ctx is None or ctx.deadline is None:
        return None
    return ctx.deadline - DEADLINE_MARGIN - time.monotonic()


def shared() -> tuple[contextvars.Context, CallContext]:
    """A context for work that many callers share (a store refresh) and its own CallContext.

    It is the current context without the caller's deadline, so that one
    impatient caller cannot cut short work that others wait for; each caller
    bounds only its own wait. What the work learns (the AWS request id) goes
    to the returned CallContext, not to the caller that happened to start it.
    """
    ctx = _current.get()
    own = CallContext(request_id="") if ctx is None else dataclasses.replace(ctx, deadline=None)
    context = contextvars.copy_context()
    context.run(_current.set, own)
    return context, own
