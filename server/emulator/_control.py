"""The control interface under ``/_emulator/``: what a person in the AWS console, or a test, would do."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connfacade.server.awsmodel import APPRUNNER, CODESTAR
from connfacade.server.emulator._state import AppRunnerConnection, Host

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connfacade.server.emulator._api import Core
    from connfacade.server.emulator._state import Resource

PREFIX = "/_emulator"


class ControlError(Exception):
    """A control call that cannot be done: HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> ControlError:
    return ControlError(400, "ValidationException", message)


def _json(
    handler: Callable[[web.Request], Awaitable[dict[str, Any]]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Turn a handler's dict (or ControlError) into a JSON answer."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return web.json_response(await handler(request))
        except ControlError as error:
            return web.json_response({"__type": error.code, "message": error.message}, status=error.status)

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _bad("body must be a JSON object")
    return body


def _describe(resource: Resource) -> dict[str, Any]:
    if isinstance(resource, Host):
        return {"Host": resource.describe(with_arn=True)}
    return {"Connection": resource.describe()}


class Control:
    """Handlers of the control interface, over the emulator's shared core."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def routes(self) -> list[web.RouteDef]:
        """Every control route."""
        return [
            web.post(f"{PREFIX}/handshake", _json(self.handshake)),
            web.get(f"{PREFIX}/requests", _json(self.requests)),
            web.delete(f"{PREFIX}/requests", _json(self.clear_requests)),
            web.post(f"{PREFIX}/faults", _json(self.add_fault)),
            web.get(f"{PREFIX}/faults", _json(self.faults)),
            web.delete(f"{PREFIX}/faults", _json(self.clear_faults)),
            web.delete(f"{PREFIX}/faults/{{fault_id}}", _json(self.clear_fault)),
            web.get(f"{PREFIX}/config", _json(self.config)),
            web.post(f"{PREFIX}/config", _json(self.configure)),
            web.post(f"{PREFIX}/reset", _json(self.reset)),
            web.post(f"{PREFIX}/in-use", _json(self.in_use)),
            web.post(f"{PREFIX}/empty-pages", _json(self.empty_pages)),
        ]

    def _resource(self, arn: object) -> Resource:
        if not isinstance(arn, str):
            raise _bad("ConnectionArn (or HostArn) must be an ARN string")
        found = self._core.state.find(arn)
        if found is None:
            raise ControlError(404, "ResourceNotFoundException", f"No connection or host {arn}")
        return found

    async def handshake(self, request: web.Request) -> dict[str, Any]:
        """Complete (AVAILABLE) or fail (ERROR) a pending connection's or host's handshake."""
        body = await _body(request)
        resource = self._resource(body.get("ConnectionArn") or body.get("HostArn"))
        status = body.get("Status")
        if not isinstance(status, str):
            raise _bad("Status must be a string such as AVAILABLE or ERROR")
        try:
            self._core.state.set_status(resource, status)
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        if isinstance(resource, Host) and "StatusMessage" in body:
            resource.status_message = body["StatusMessage"]
        return _describe(resource)

    async def requests(self, request: web.Request) -> dict[str, Any]:
        """The logged API calls, optionally filtered by ``?Service=`` and ``?Operation=``."""
        query = request.query
        service = query.get("Service") or query.get("service")
        operation = query.get("Operation") or query.get("operation")
        return {"Requests": self._core.log.entries(service, operation)}

    async def clear_requests(self, _request: web.Request) -> dict[str, Any]:
        """Forget the logged API calls."""
        self._core.log.clear()
        return {}

    async def add_fault(self, request: web.Request) -> dict[str, Any]:
        """Inject a fault; answers its id."""
        try:
            fault = self._core.faults.add(await _body(request))
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        return {"FaultId": fault.fault_id}

    async def faults(self, _request: web.Request) -> dict[str, Any]:
        """The faults in force."""
        return {"Faults": [f.to_json() for f in self._core.faults.list()]}

    async def clear_faults(self, _request: web.Request) -> dict[str, Any]:
        """Clear every fault."""
        self._core.faults.clear()
        return {}

    async def clear_fault(self, request: web.Request) -> dict[str, Any]:
        """Clear one fault."""
        fault_id = request.match_info["fault_id"]
        if not self._core.faults.remove(fault_id):
            raise ControlError(404, "ResourceNotFoundException", f"No fault {fault_id}")
        return {}

    async def config(self, _request: web.Request) -> dict[str, Any]:
        """The current configuration."""
        state = self._core.state
        return {
            "AccountId": state.account_id,
            "AutoCompleteSeconds": state.auto_complete_seconds,
            "Quotas": state.quotas.to_json(),
            "EmptyPages": dict(state.empty_pages),
        }

    async def configure(self, request: web.Request) -> dict[str, Any]:
        """Change ``AutoCompleteSeconds`` (for resources created from now on) and/or ``Quotas``."""
        body, state = await _body(request), self._core.state
        unknown = set(body) - {"AutoCompleteSeconds", "Quotas"}
        if unknown:
            raise _bad(f"unknown settings: {', '.join(sorted(unknown))}")
        quotas = state.quotas
        if "Quotas" in body:
            if not isinstance(body["Quotas"], dict):
                raise _bad("Quotas must be an object")
            try:
                quotas = quotas.updated(body["Quotas"])
            except ValueError as exc:
                raise _bad(str(exc)) from exc
        if "AutoCompleteSeconds" in body:
            seconds = body["AutoCompleteSeconds"]
            valid = seconds is None or (isinstance(seconds, int | float) and not isinstance(seconds, bool))
            if not valid or (seconds is not None and seconds < 0):
                raise _bad("AutoCompleteSeconds must be a non-negative number or null")
            state.auto_complete_seconds = seconds
        state.quotas = quotas
        return await self.config(request)

    async def reset(self, _request: web.Request) -> dict[str, Any]:
        """Forget every resource, fault and logged call; the configuration stays."""
        self._core.state.reset()
        self._core.faults.clear()
        self._core.log.clear()
        return {}

    async def in_use(self, request: web.Request) -> dict[str, Any]:
        """Mark an App Runner connection as used by a service, so that DeleteConnection refuses."""
        body = await _body(request)
        resource = self._resource(body.get("ConnectionArn"))
        if not isinstance(resource, AppRunnerConnection):
            raise _bad("only App Runner connections can be in use by a service")
        in_use = body.get("InUse", True)
        if not isinstance(in_use, bool):
            raise _bad("InUse must be true or false")
        resource.in_use = in_use
        return {"ConnectionArn": resource.arn, "InUse": in_use}

    async def empty_pages(self, request: web.Request) -> dict[str, Any]:
        """The next ``Count`` list calls of ``Service`` (default apprunner) answer empty, with a token.

        ``Count`` null: every list call does, until a new count or a reset (a listing that never ends).
        """
        body = await _body(request)
        count, service = body.get("Count", 1), body.get("Service", APPRUNNER)
        if service not in (APPRUNNER, CODESTAR):
            raise _bad(f"Service must be {APPRUNNER} or {CODESTAR}")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
            raise _bad("Count must be a non-negative integer or null")
        self._core.state.empty_pages[service] = count
        return {"EmptyPages": dict(self._core.state.empty_pages)}
