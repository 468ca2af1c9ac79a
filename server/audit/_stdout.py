"""Audit records as JSON lines on stdout, through structlog, for the log collector."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog

from connfacade.server.audit._redact import redact
from connfacade.server.audit._sink import AuditSinkError, observed

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, MutableMapping
    from typing import TextIO


class StdoutSink:
    """One JSON line per record, marked ``"audit": true``, flushed before `write` returns.

    Its own structlog logger, independent of the process's logging set-up:
    application logs may be filtered by level or rendered for a console, audit
    records may not. The print blocks the event loop while the stream does
    (a collector that stops reading a pipe stops mutations: fail closed).
    """

    def __init__(
        self, stream: TextIO | None = None, *, observe: Callable[[float, bool], None] | None = None
    ) -> None:
        self._log = structlog.wrap_logger(
            structlog.PrintLogger(stream),  # None: whatever sys.stdout is at each write
            processors=[_audit_line, structlog.processors.JSONRenderer()],
            wrapper_class=structlog.BoundLogger,
        )
        self._observe = observe
        self._closed = False

    async def write(self, record: Mapping[str, Any]) -> None:
        """Prints ``record`` (secrets redacted) as one JSON line and flushes."""
        started = time.perf_counter()
        ok = False
        try:
            if self._closed:
                raise AuditSinkError("the stdout audit sink is closed")
            try:
                self._log.info(record=redact(record))
            except (OSError, ValueError) as err:  # a closed or broken stream
                raise AuditSinkError(f"stdout audit sink: {err}") from err
            ok = True
        finally:
            observed(self._observe, time.perf_counter() - started, ok)

    async def aclose(self) -> None:
        """Stops accepting records (the stream itself is left open: it is not ours)."""
        self._closed = True


def _audit_line(_logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    # The record travels as one value, so its keys never collide with the
    # logger's own arguments (an ``event`` or ``method_name`` field).
    # The marker comes first and cannot be overwritten by a field of the record.
    line: dict[str, Any] = {"audit": True, **event_dict["record"]}
    line["audit"] = True
    return line
