"""An `AwsBackend` that writes a mutation's intent to the audit log before AWS hears of it.

The last layer before the wire, so that a mutation refused earlier (by
validation, authorization, the circuit breaker) leaves no intent, and every
mutation that is sent to AWS has one, durable per the audit log's fsync policy.
If the intent cannot be written, AWS is not called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.server import callcontext
from connfacade.server.domain import DomainError

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from connfacade.server.backend.protocol import AwsBackend
    from connfacade.server.domain import Service

NO_ANSWER = "NoAnswer"
"""The outcome of an AWS call that was sent and got no answer (timeout, lost connection, cancel)."""


class MissingIntentError(RuntimeError):
    """A mutation reached the backend outside an audited call: refused, as it would leave no record."""


class WriteAheadBackend:
    """Wraps a backend: an operation in ``mutations`` is called only after its intent is written.

    The intent goes to the current call's `callcontext.WriteAhead`. With
    ``required`` (the server audits), a mutation without one is refused
    rather than sent unrecorded.
    """

    def __init__(self, inner: AwsBackend, mutations: Collection[str], *, required: bool) -> None:
        self._inner = inner
        self._mutations = frozenset(mutations)
        self._required = required

    async def call(self, service: Service, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Calls the wrapped backend, a mutation after its intent and with its outcome noted."""
        if operation not in self._mutations:
            return await self._inner.call(service, operation, params)
        audit = callcontext.write_ahead()
        if audit is None:
            if self._required:
                raise MissingIntentError(f"{operation} outside an audited call: it would leave no record")
            return await self._inner.call(service, operation, params)
        await audit.intent(service, operation, params)
        call = callcontext.current()
        before = call.aws_request_id if call is not None else ""
        request_id, outcome, created = "", NO_ANSWER, ""
        try:
            response = await self._inner.call(service, operation, params)
        except DomainError as err:
            if err.aws_request_id:  # AWS answered, with an error
                request_id, outcome = err.aws_request_id, err.aws_code or type(err).__name__
            raise
        else:
            outcome, created = "OK", created_arn(response)
            if call is not None and call.aws_request_id != before:
                request_id = call.aws_request_id
            return response
        finally:
            audit.answered(request_id, outcome, created)


def created_arn(response: Mapping[str, Any]) -> str:
    """The ARN of what a create made, from AWS's answer ("" if it names none)."""
    for holder in (response, response.get("Connection")):
        if isinstance(holder, dict):
            for member in ("ConnectionArn", "HostArn"):
                if isinstance(arn := holder.get(member), str) and arn:
                    return arn
    return ""
