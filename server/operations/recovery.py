"""What became of a mutation whose process died between its intent and its completion: AWS is asked.

An intent names the RPC and its parameters (as the audit policy redacted
them). Asking AWS for the state of the resource it names tells whether the
mutation was carried out: a create, whether a resource of that name exists
(and, for App Runner, whether it was created after the intent); a delete,
whether the resource is gone; tags, endpoints, whether they have the values
asked for. The answer is ``applied``, ``not_applied`` or ``unknown`` (the
parameters or AWS do not tell), with what was found. An AWS that cannot be
asked raises its `DomainError`: the intent stays open for a later attempt.
The checks of each service live in its own module.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import arn_key
from connfacade.server.operations import _recover_apprunner as apprunner
from connfacade.server.operations import _recover_codestar as codestar
from connfacade.server.operations._findings import APPLIED, NOT_APPLIED, UNKNOWN, Finding, UnnamedError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Mapping

    from connfacade.server.backend import AwsBackend

    Check = Callable[[AwsBackend, Mapping[str, Any], float, Collection[str]], Awaitable[Finding]]

__all__ = ["APPLIED", "NOT_APPLIED", "UNKNOWN", "Finding", "Recovery"]

_CHECKS: dict[str, Check] = {
    "apprunner.CreateConnection": apprunner.create,
    "apprunner.DeleteConnection": apprunner.delete,
    "apprunner.TagResource": apprunner.tag,
    "apprunner.UntagResource": apprunner.untag,
    "codestar.CreateConnection": codestar.create_connection,
    "codestar.DeleteConnection": codestar.delete_connection,
    "codestar.TagResource": codestar.tag,
    "codestar.UntagResource": codestar.untag,
    "codestar.CreateHost": codestar.create_host,
    "codestar.DeleteHost": codestar.delete_host,
    "codestar.UpdateHost": codestar.update_host,
}


class Recovery:
    """Asks AWS, through ``backend``, what each open intent did."""

    def __init__(self, backend: AwsBackend) -> None:
        self._backend = backend

    async def what_happened(self, intent: Mapping[str, Any], claimed: Collection[str] = ()) -> Finding:
        """What AWS shows of the intent's mutation; raises the backend's `DomainError` if AWS cannot tell.

        ``claimed``: ARNs other records name as theirs, so that a CodeStar
        connection or host of the same name is not taken for this intent's.
        """
        method = intent.get("method")
        check = _CHECKS.get(method) if isinstance(method, str) else None
        params = intent.get("requestParameters")
        if check is None or not isinstance(params, dict):
            return Finding(UNKNOWN, {"reason": "the intent names no mutation this server knows how to check"})
        started = _time(intent.get("eventTime")) or _time(intent.get("startTime")) or 0.0
        try:
            return await check(self._backend, params, started, {arn_key(a) for a in claimed})
        except UnnamedError as err:
            return Finding(UNKNOWN, {"reason": f"the intent's parameters do not name {err} (redacted?)"})


def _time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
