"""What became of a mutation whose process died between its intent and its completion: AWS is asked.

An intent names the RPC and its parameters (as the audit policy redacted
them). Asking AWS for the state of the resource it names tells whether the
mutation was carried out: a create, whether a resource of that name exists
(and, for App Runner, whether it was created after the intent); a delete,
whether the resource is gone; tags, endpoints, whether they have the values
asked for. The answer is ``applied``, ``not_applied`` or ``unknown`` (the
parameters or AWS do not tell), with what was found. An AWS that cannot be
asked raises its `DomainError`: the intent stays open for a later attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import NotFound, Page, Service, arn_key
from connfacade.server.operations.paging import all_items

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Mapping

    from connfacade.server.backend import AwsBackend

APPLIED = "applied"
NOT_APPLIED = "not_applied"
UNKNOWN = "unknown"
CLOCK_TOLERANCE = 60.0
"""Seconds a resource's creation time may precede its intent's and still be the intent's (clock skew)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What AWS showed about one intent's mutation."""

    result: str
    found: dict[str, Any] = field(default_factory=dict)
    arn: str = ""
    """The resource a create made (when it was applied and AWS tells which)."""

    def as_record(self) -> dict[str, Any]:
        """The ``recovered`` member of the completion written for the intent."""
        record: dict[str, Any] = {"result": self.result, "found": self.found}
        if self.arn:
            record["arn"] = self.arn
        record["checkedAt"] = datetime.now(tz=UTC).isoformat()
        return record


class Recovery:
    """Asks AWS, through ``backend``, what each open intent did.

    ``claimed``: ARNs that other records already name as theirs, so that a
    CodeStar connection or host of the same name (names need not be unique
    there) is not taken for this intent's.
    """

    def __init__(self, backend: AwsBackend) -> None:
        self._backend = backend
        self._asks: dict[str, Callable[[Mapping[str, Any], float, Collection[str]], Awaitable[Finding]]] = {
            "apprunner.CreateConnection": self._apprunner_create,
            "apprunner.DeleteConnection": self._apprunner_delete,
            "apprunner.TagResource": self._tagged(Service.APPRUNNER),
            "apprunner.UntagResource": self._untagged(Service.APPRUNNER),
            "codestar.CreateConnection": self._codestar_create,
            "codestar.DeleteConnection": self._gone(Service.CODESTAR, "GetConnection", "ConnectionArn"),
            "codestar.TagResource": self._tagged(Service.CODESTAR),
            "codestar.UntagResource": self._untagged(Service.CODESTAR),
            "codestar.CreateHost": self._host_create,
            "codestar.DeleteHost": self._gone(Service.CODESTAR, "GetHost", "HostArn"),
            "codestar.UpdateHost": self._host_update,
        }

    async def what_happened(self, intent: Mapping[str, Any], claimed: Collection[str] = ()) -> Finding:
        """What AWS shows of the intent's mutation; raises the backend's `DomainError` if AWS cannot tell."""
        method = intent.get("method")
        ask = self._asks.get(method) if isinstance(method, str) else None
        params = intent.get("requestParameters")
        if ask is None or not isinstance(params, dict):
            return Finding(UNKNOWN, {"reason": "the intent names no mutation this server knows how to check"})
        started = _time(intent.get("eventTime")) or _time(intent.get("startTime"))
        try:
            return await ask(params, started or 0.0, {arn_key(a) for a in claimed})
        except _Unnamed as err:
            return Finding(UNKNOWN, {"reason": f"the intent's parameters do not name {err} (redacted?)"})

    # --- creates ---------------------------------------------------------------

    async def _apprunner_create(
        self, params: Mapping[str, Any], started: float, _claimed: Collection[str]
    ) -> Finding:
        name = _text(params, "connection_name")
        found = [c for c in await self._apprunner_named(name) if c.get("ConnectionName") == name]
        if not found:
            return Finding(NOT_APPLIED, {"connection": None})
        connection = found[0]
        arn, created = str(connection.get("ConnectionArn", "")), connection.get("CreatedAt")
        seen = {"connection": arn, "status": connection.get("Status"), "createdAt": _iso(created)}
        if isinstance(created, datetime) and created.timestamp() >= started - CLOCK_TOLERANCE:
            return Finding(APPLIED, seen, arn)
        if isinstance(created, datetime):
            return Finding(NOT_APPLIED, seen | {"reason": "the connection existed before the intent"})
        return Finding(UNKNOWN, seen | {"reason": "AWS gave no creation time"})

    async def _codestar_create(
        self, params: Mapping[str, Any], _started: float, claimed: Collection[str]
    ) -> Finding:
        name = _text(params, "connection_name")
        items = await all_items(
            lambda token: self._page(Service.CODESTAR, "ListConnections", "Connections", token)
        )
        return _unclaimed(
            "connections",
            [str(c.get("ConnectionArn", "")) for c in items if c.get("ConnectionName") == name],
            claimed,
        )

    async def _host_create(
        self, params: Mapping[str, Any], _started: float, claimed: Collection[str]
    ) -> Finding:
        name = _text(params, "name")
        items = await all_items(lambda token: self._page(Service.CODESTAR, "ListHosts", "Hosts", token))
        return _unclaimed(
            "hosts", [str(h.get("HostArn", "")) for h in items if h.get("Name") == name], claimed
        )

    # --- deletes ---------------------------------------------------------------

    async def _apprunner_delete(
        self, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
    ) -> Finding:
        arn = _text(params, "connection_arn")
        name = arn.rpartition(":")[2].split("/")[1:2]
        listed = await self._apprunner_named(name[0]) if name else []
        still = [c for c in listed if c.get("ConnectionArn") == arn and c.get("Status") != "DELETED"]
        if still:
            return Finding(NOT_APPLIED, {"connection": arn, "status": still[0].get("Status")})
        return Finding(APPLIED, {"connection": arn, "status": "DELETED"})

    def _gone(
        self, service: Service, operation: str, member: str
    ) -> Callable[[Mapping[str, Any], float, Collection[str]], Awaitable[Finding]]:
        async def ask(params: Mapping[str, Any], _started: float, _claimed: Collection[str]) -> Finding:
            arn = _text(params, "connection_arn" if member == "ConnectionArn" else "host_arn")
            try:
                out = await self._backend.call(service, operation, {member: arn})
            except NotFound:
                return Finding(APPLIED, {"resource": arn, "exists": False})
            status = (out.get("Connection") or {}).get("ConnectionStatus") or out.get("Status")
            return Finding(NOT_APPLIED, {"resource": arn, "exists": True, "status": status})

        return ask

    # --- tags and hosts ----------------------------------------------------------

    def _tagged(
        self, service: Service
    ) -> Callable[[Mapping[str, Any], float, Collection[str]], Awaitable[Finding]]:
        async def ask(params: Mapping[str, Any], _started: float, _claimed: Collection[str]) -> Finding:
            arn = _text(params, "resource_arn")
            wanted = params.get("tags")
            if not isinstance(wanted, list):
                raise _Unnamed("the tags")
            current = await self._tags(service, arn)
            if current is None:
                return Finding(UNKNOWN, {"resource": arn, "exists": False})
            pairs = [(t.get("key"), t.get("value")) for t in wanted if isinstance(t, dict)]
            # A redacted value cannot be compared: its key being there is what can be said.
            applied = all(
                k in current and (v == current[k] or not isinstance(v, str) or v.startswith("[REDACTED"))
                for k, v in pairs
            )
            present = sorted(str(k) for k, _ in pairs if k in current)
            return Finding(APPLIED if applied else NOT_APPLIED, {"resource": arn, "tagKeysPresent": present})

        return ask

    def _untagged(
        self, service: Service
    ) -> Callable[[Mapping[str, Any], float, Collection[str]], Awaitable[Finding]]:
        async def ask(params: Mapping[str, Any], _started: float, _claimed: Collection[str]) -> Finding:
            arn = _text(params, "resource_arn")
            keys = params.get("tag_keys")
            if not isinstance(keys, list):
                raise _Unnamed("the tag keys")
            current = await self._tags(service, arn)
            if current is None:
                return Finding(UNKNOWN, {"resource": arn, "exists": False})
            present = sorted(str(k) for k in keys if k in current)
            return Finding(NOT_APPLIED if present else APPLIED, {"resource": arn, "tagKeysPresent": present})

        return ask

    async def _host_update(
        self, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
    ) -> Finding:
        arn = _text(params, "host_arn")
        try:
            out = await self._backend.call(Service.CODESTAR, "GetHost", {"HostArn": arn})
        except NotFound:
            return Finding(UNKNOWN, {"resource": arn, "exists": False})
        endpoint = out.get("ProviderEndpoint")
        found = {"resource": arn, "providerEndpoint": endpoint, "status": out.get("Status")}
        wanted = params.get("provider_endpoint")
        if not isinstance(wanted, str) or not wanted or wanted.startswith("[REDACTED"):
            return Finding(UNKNOWN, found | {"reason": "the intent sets no endpoint to compare"})
        return Finding(APPLIED if endpoint == wanted else NOT_APPLIED, found)

    # --- AWS reads ---------------------------------------------------------------

    async def _apprunner_named(self, name: str) -> list[dict[str, Any]]:
        async def page(token: str) -> Page[dict[str, Any]]:
            params: dict[str, Any] = {"ConnectionName": name}
            if token:
                params["NextToken"] = token
            out = await self._backend.call(Service.APPRUNNER, "ListConnections", params)
            return Page(tuple(out.get("ConnectionSummaryList", ())), str(out.get("NextToken", "") or ""))

        return await all_items(page)

    async def _page(self, service: Service, operation: str, member: str, token: str) -> Page[dict[str, Any]]:
        out = await self._backend.call(service, operation, {"NextToken": token} if token else {})
        return Page(tuple(out.get(member, ())), str(out.get("NextToken", "") or ""))

    async def _tags(self, service: Service, arn: str) -> dict[str, str] | None:
        try:
            out = await self._backend.call(service, "ListTagsForResource", {"ResourceArn": arn})
        except NotFound:
            return None
        return {str(t.get("Key")): str(t.get("Value")) for t in out.get("Tags") or ()}


class _Unnamed(Exception):
    """The intent's parameters lack (or redacted) what the check needs."""


def _unclaimed(kind: str, arns: list[str], claimed: Collection[str]) -> Finding:
    """A create where names need not be unique: the resources of that name no other record claims."""
    candidates = [a for a in arns if arn_key(a) not in claimed]
    if not candidates:
        return Finding(NOT_APPLIED, {kind: [], "sameNameClaimedByOtherRecords": len(arns)})
    if len(candidates) == 1:
        return Finding(APPLIED, {kind: candidates}, candidates[0])
    return Finding(UNKNOWN, {kind: candidates, "reason": "several unclaimed resources of that name"})


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value or value.startswith("[REDACTED"):
        raise _Unnamed(key)
    return value


def _time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None
