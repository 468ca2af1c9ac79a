"""The aiobotocore backend takes the session it is given: many backends, one load of the service models."""

from __future__ import annotations

import pytest
from aiobotocore.session import get_session

from connfacade.server.app import EMULATOR_CREDENTIALS
from connfacade.server.backend import AioBotoBackend
from connfacade.server.domain import Service
from connfacade.server.domain.errors import Unavailable


def _backend(emulator, session, max_attempts: int) -> AioBotoBackend:
    return AioBotoBackend(
        region="us-east-1",
        endpoint_url=emulator.url,
        credentials=EMULATOR_CREDENTIALS,
        max_attempts=max_attempts,
        session=session,
    )


async def test_a_backend_makes_its_clients_from_the_session_it_is_given(emulator):
    """A handler registered on the given session sees the backend's calls."""
    session = get_session()
    operations: list[str] = []
    session.register("before-call", lambda model, **_: operations.append(model.name))
    async with _backend(emulator, session, max_attempts=1) as backend:
        await backend.call(Service.APPRUNNER, "ListConnections", {})
    assert operations == ["ListConnections"]


async def test_backends_sharing_a_session_keep_their_own_retry_settings(emulator, control):
    """One session, two backends: one makes one attempt, the other two; neither takes the other's."""
    session = get_session()
    await control.inject_fault(operation="ListConnections", kind="error", http_status=500)
    async with _backend(emulator, session, max_attempts=1) as once, _backend(emulator, session, 2) as twice:
        for backend, attempts in ((once, 1), (twice, 2), (once, 1)):
            await control.clear_requests()
            with pytest.raises(Unavailable):
                await backend.call(Service.APPRUNNER, "ListConnections", {})
            assert len(await control.requests(operation="ListConnections")) == attempts


def test_the_suite_gives_every_backend_the_runs_session(backend, aws_session):
    """The `backend` fixture's clients come from the session made once per run."""
    assert backend._session is aws_session
