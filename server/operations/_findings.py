"""What recovery reports of one intent, and the comparisons every service's checks share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import arn_key

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

APPLIED = "applied"
NOT_APPLIED = "not_applied"
UNKNOWN = "unknown"
REDACTED_PREFIX = "[REDACTED"


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


class UnnamedError(Exception):
    """The intent's parameters lack (or redacted) what the check needs."""


def text(params: Mapping[str, Any], key: str) -> str:
    """A parameter the check needs; `UnnamedError` if it is missing or redacted."""
    value = params.get(key)
    if not isinstance(value, str) or not value or value.startswith(REDACTED_PREFIX):
        raise UnnamedError(key)
    return value


def unclaimed(kind: str, arns: list[str], claimed: Collection[str]) -> Finding:
    """A create where names need not be unique: the resources of that name no other record claims."""
    candidates = [a for a in arns if arn_key(a) not in claimed]
    if not candidates:
        return Finding(NOT_APPLIED, {kind: [], "sameNameClaimedByOtherRecords": len(arns)})
    if len(candidates) == 1:
        return Finding(APPLIED, {kind: candidates}, candidates[0])
    return Finding(UNKNOWN, {kind: candidates, "reason": "several unclaimed resources of that name"})


def tagged(arn: str, params: Mapping[str, Any], current: Mapping[str, str] | None) -> Finding:
    """TagResource: whether the resource has the tags asked for (a redacted value: its key is there)."""
    wanted = params.get("tags")
    if not isinstance(wanted, list):
        raise UnnamedError("the tags")
    if current is None:
        return Finding(UNKNOWN, {"resource": arn, "exists": False})
    pairs = [(str(t.get("key")), t.get("value")) for t in wanted if isinstance(t, dict)]
    applied = all(
        k in current and (not isinstance(v, str) or v == current[k] or v.startswith(REDACTED_PREFIX))
        for k, v in pairs
    )
    present = sorted(k for k, _ in pairs if k in current)
    return Finding(APPLIED if applied else NOT_APPLIED, {"resource": arn, "tagKeysPresent": present})


def untagged(arn: str, params: Mapping[str, Any], current: Mapping[str, str] | None) -> Finding:
    """UntagResource: whether the keys are gone."""
    keys = params.get("tag_keys")
    if not isinstance(keys, list):
        raise UnnamedError("the tag keys")
    if current is None:
        return Finding(UNKNOWN, {"resource": arn, "exists": False})
    present = sorted(str(k) for k in keys if k in current)
    return Finding(NOT_APPLIED if present else APPLIED, {"resource": arn, "tagKeysPresent": present})


def tag_map(tags: object) -> dict[str, str]:
    """AWS's ``Tags`` list as a dict."""
    if not isinstance(tags, list):
        return {}
    return {str(t.get("Key")): str(t.get("Value")) for t in tags if isinstance(t, dict)}


def iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None
