"""What every audit sink promises, and the one error it raises."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


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

    A failing hook never turns a durable write into a reported failure.
    """
    if observe is None:
        return
    with contextlib.suppress(Exception):  # metrics must not decide whether a mutation is audited
        observe(seconds, ok)
