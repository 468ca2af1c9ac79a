"""Async helpers for the control interface, over real HTTP."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Self

import aiohttp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType


class _Unset(enum.Enum):
    UNSET = enum.auto()


_UNSET = _Unset.UNSET


class EmulatorControlError(Exception):
    """The control interface refused a call."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class EmulatorControl:
    """Drives an emulator's ``/_emulator/`` interface: ``async with EmulatorControl(url) as ctl``."""

    def __init__(self, url: str) -> None:
        self._base = url.rstrip("/") + "/_emulator"
        # Created on first use: aiohttp wants its session made inside a running loop.
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(method, self._base + path, json=body, params=query) as response:
            data = await response.json(content_type=None)
            if response.status >= 300:  # noqa: PLR2004 - any non-2xx answer is a refusal
                raise EmulatorControlError(response.status, data.get("__type", ""), data.get("message", ""))
            return data

    async def complete_handshake(self, arn: str, status: str = "AVAILABLE") -> dict[str, Any]:
        """Complete (``AVAILABLE``) or fail (``ERROR``) the handshake of a connection or host."""
        result: dict[str, Any] = await self._call(
            "POST", "/handshake", {"ConnectionArn": arn, "Status": status}
        )
        return result

    async def requests(
        self, service: str | None = None, operation: str | None = None
    ) -> list[dict[str, Any]]:
        """The logged AWS API calls, oldest first."""
        query = {k: v for k, v in (("Service", service), ("Operation", operation)) if v is not None}
        result: list[dict[str, Any]] = (await self._call("GET", "/requests", query=query))["Requests"]
        return result

    async def clear_requests(self) -> None:
        """Forget the logged calls."""
        await self._call("DELETE", "/requests")

    async def inject_fault(
        self,
        operation: str = "ListConnections",
        kind: str = "throttle",
        *,
        count: int | None = None,
        service: str | None = None,
        latency_ms: int | None = None,
        http_status: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> str:
        """Inject a fault (``operation="*"`` for all); returns its id."""
        spec = {
            "Operation": operation,
            "Kind": kind,
            "Count": count,
            "Service": service,
            "LatencyMs": latency_ms,
            "HttpStatus": http_status,
            "Code": code,
            "Message": message,
        }
        body = {k: v for k, v in spec.items() if v is not None}
        fault_id: str = (await self._call("POST", "/faults", body))["FaultId"]
        return fault_id

    async def faults(self) -> list[dict[str, Any]]:
        """The faults in force."""
        result: list[dict[str, Any]] = (await self._call("GET", "/faults"))["Faults"]
        return result

    async def clear_faults(self) -> None:
        """Clear every fault."""
        await self._call("DELETE", "/faults")

    async def clear_fault(self, fault_id: str) -> None:
        """Clear one fault."""
        await self._call("DELETE", f"/faults/{fault_id}")

    async def reset(self) -> None:
        """Forget every resource, fault and logged call (the configuration stays)."""
        await self._call("POST", "/reset")

    async def set_in_use(self, arn: str, in_use: bool = True) -> None:
        """Mark an App Runner connection as used by a service (DeleteConnection then refuses)."""
        await self._call("POST", "/in-use", {"ConnectionArn": arn, "InUse": in_use})

    async def configure(
        self,
        auto_complete_seconds: float | _Unset | None = _UNSET,
        quotas: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """Set the automatic handshake delay (None: off) and/or quotas; returns the configuration."""
        body: dict[str, Any] = {}
        if auto_complete_seconds is not _UNSET:
            body["AutoCompleteSeconds"] = auto_complete_seconds
        if quotas is not None:
            body["Quotas"] = dict(quotas)
        result: dict[str, Any] = await self._call("POST", "/config", body)
        return result

    async def config(self) -> dict[str, Any]:
        """The current configuration."""
        result: dict[str, Any] = await self._call("GET", "/config")
        return result

    async def empty_pages(self, n: int | None = 1, service: str = "apprunner") -> None:
        """Make the next ``n`` list calls of ``service`` answer an empty page with a valid NextToken.

        ``n`` None: every list call, until a new count or a reset.
        """
        await self._call("POST", "/empty-pages", {"Count": n, "Service": service})
