"""What every audit sink promises, and the one error it raises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import structlog

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


log = structlog.get_logger("connfacade.audit")
_hook_failures_logged: set[type[BaseException]] = set()


class AuditSinkError(Exception):
    """A sink could not durably write a record: the caller must fail closed."""


class AuditSink(Protocol):
    """A place audit records go."""

    async def write(self, record: Mapping[str, Any]) -> None:
        """Writes one record, durable per the sink's policy before returning; raises AuditSinkError."""
        ...

    async def aclose(self) -> None:
        """Flushes and releases the sink; later writes raise AuditSinkError."""
        ...


def observed(observe: Callable[[float, bool], None] | None, seconds: float, ok: bool) -> None:
    """Reports one write (its seconds, whether it succeeded) to the metrics hook, if any.

    A failing hook never turns a durable write into a reported failure; it is
    logged, once per kind of error, so a broken metric is seen without a
    log line per record.
    """
    if observe is None:
        return
    try:
        observe(seconds, ok)
    except Exception as err:
        if type(err) not in _hook_failures_logged:
            _hook_failures_logged.add(type(err))
            log.exception("audit.metrics_hook_failed")
