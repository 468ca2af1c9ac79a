"""Injected faults: throttling, error answers, latency and dropped connections."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

KINDS = frozenset({"throttle", "error", "latency", "drop"})
ANY_OPERATION = "*"


@dataclass
class Fault:
    """One injected fault and how many more matching requests it affects (None: until cleared)."""

    fault_id: str
    kind: str
    operation: str
    service: str | None = None
    remaining: int | None = None
    latency_ms: int = 0
    http_status: int | None = None
    code: str | None = None
    message: str | None = None

    def matches(self, service: str, operation: str) -> bool:
        """Whether a request of ``service.operation`` is affected."""
        return (self.service is None or self.service == service) and self.operation in (
            ANY_OPERATION,
            operation,
        )

    def to_json(self) -> dict[str, Any]:
        """The fault as the control interface lists it."""
        return {
            "FaultId": self.fault_id,
            "Kind": self.kind,
            "Service": self.service,
            "Operation": self.operation,
            "Count": self.remaining,
            "LatencyMs": self.latency_ms,
            "HttpStatus": self.http_status,
            "Code": self.code,
            "Message": self.message,
        }


def _optional_int(spec: Mapping[str, Any], key: str, low: int) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{key} must be an integer >= {low}")
    return value


def _optional_str(spec: Mapping[str, Any], key: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


class FaultRegistry:
    """The faults in force, applied in the order they were injected."""

    def __init__(self, operations: Mapping[str, frozenset[str]]) -> None:
        self._operations = operations
        self._faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)

    def add(self, spec: Mapping[str, Any]) -> Fault:
        """Register a fault from its JSON description; raise ``ValueError`` when it is malformed."""
        kind, service, operation = (
            spec.get("Kind"),
            _optional_str(spec, "Service"),
            spec.get("Operation", "*"),
        )
        if kind not in KINDS:
            raise ValueError(f"Kind must be one of {', '.join(sorted(KINDS))}")
        if service is not None and service not in self._operations:
            raise ValueError(f"Service must be one of {', '.join(self._operations)}")
        known = set().union(*self._operations.values()) if service is None else self._operations[service]
        if operation != ANY_OPERATION and operation not in known:
            raise ValueError(
                f"Operation {operation!r} is not emulated; use one of {', '.join(sorted(known))} or *"
            )
        latency = _optional_int(spec, "LatencyMs", 0)
        if kind == "latency" and latency is None:
            raise ValueError("a latency fault needs LatencyMs")
        fault = Fault(
            fault_id=f"fault-{next(self._ids)}",
            kind=kind,
            operation=operation,
            service=service,
            remaining=_optional_int(spec, "Count", 1),
            latency_ms=latency or 0,
            http_status=_optional_int(spec, "HttpStatus", 100),
            code=_optional_str(spec, "Code"),
            message=_optional_str(spec, "Message"),
        )
        self._faults[fault.fault_id] = fault
        return fault

    def take(self, service: str, operation: str) -> tuple[int, Fault | None]:
        """The faults a request meets: total latency to add, then at most one fault that ends it.

        Every fault taken uses up one of its ``Count``.
        """
        latency_ms, ending = 0, None
        for fault in list(self._faults.values()):
            if not fault.matches(service, operation):
                continue
            if fault.kind == "latency":
                latency_ms += fault.latency_ms
            elif ending is None:
                ending = fault
            else:
                continue
            self._use(fault)
        return latency_ms, ending

    def _use(self, fault: Fault) -> None:
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[fault.fault_id]

    def list(self) -> list[Fault]:
        """The faults in force, oldest first."""
        return list(self._faults.values())

    def remove(self, fault_id: str) -> bool:
        """Clear one fault; False when there was none with that id."""
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        """Clear every fault."""
        self._faults.clear()
