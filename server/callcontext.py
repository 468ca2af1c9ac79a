"""Per-call facts that lower layers record and the gRPC boundary reports.

A grpc.aio handler runs in its own task, so a ContextVar set at the start of a
call is that call's alone; the backend records the AWS request id here instead
of threading it through every return value.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from connfacade.server.security._principals import ANONYMOUS, Principal
from connfacade.server.store.reads import ReadInfo, ReadOptions

_current: ContextVar[CallContext | None] = ContextVar("connfacade_call", default=None)


@dataclass(slots=True)
class CallContext:
    """What one RPC learned on its way through the layers."""

    request_id: str
    method: str = ""
    aws_request_id: str = ""
    read_options: ReadOptions = field(default_factory=ReadOptions)
    read_info: ReadInfo | None = None
    request_id_supplied: bool = False  # the caller sent x-request-id (idempotency keys on it)
    principal: Principal = ANONYMOUS  # who called, as authentication found it


def begin(request_id: str, method: str = "", read_options: ReadOptions | None = None) -> CallContext:
    """Starts the context of the current call and returns it."""
    ctx = CallContext(request_id=request_id, method=method, read_options=read_options or ReadOptions())
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


def read_options() -> ReadOptions:
    """What the current caller asked of reads (server defaults outside a call)."""
    ctx = _current.get()
    return ctx.read_options if ctx is not None else ReadOptions()


def record_read(info: ReadInfo) -> None:
    """Remembers how the store answered the current call's read."""
    ctx = _current.get()
    if ctx is not None:
        ctx.read_info = info


def principal() -> Principal:
    """The current caller's principal (anonymous outside a call or without authentication)."""
    ctx = _current.get()
    return ctx.principal if ctx is not None else ANONYMOUS
