"""watch_connections, wait_for_connection and their commands against the real facade on the emulator.

The store does not poll here (see tests/conftest.py): a consistent read is what
makes it learn of a handshake completed at the emulator, so every change a
test waits for is one it caused.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.client import (
    AppRunnerClient,
    AsyncAppRunnerClient,
    AsyncCodeStarConnectionsClient,
    DeadlineExceededError,
    NotFoundError,
    Resync,
)
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.server.domain import Service
from connfacade.server.store import StoreSettings

CONNFACADE = Path(sys.executable).parent / "connfacade"
CONSISTENT = [("x-connfacade-consistent-read", "true")]
ADDED, MODIFIED, BOOKMARK, SYNCED = (
    ar.EVENT_TYPE_ADDED,
    ar.EVENT_TYPE_MODIFIED,
    ar.EVENT_TYPE_BOOKMARK,
    ar.EVENT_TYPE_SYNCED,
)
PENDING, AVAILABLE = ar.CONNECTION_STATUS_PENDING_HANDSHAKE, ar.CONNECTION_STATUS_AVAILABLE
# Reconnections in these tests need not wait: the server's RetryInfo (1 s) is capped by this.
FAST = 0.05


@pytest.fixture
def target(facade):
    return facade.addresses[0]


@pytest.fixture
def hub(facade):
    return facade.stores["apprunner"]._hub


@pytest.fixture
def openings(hub, monkeypatch):
    """The resume token of every watch the App Runner hub opens, in order ("" for none)."""
    tokens = []
    real_open = hub.open

    def open_(flt, *, resume_token="", snapshot=True):
        tokens.append(resume_token)
        return real_open(flt, resume_token=resume_token, snapshot=snapshot)

    monkeypatch.setattr(hub, "open", open_)
    return tokens


async def take(watch, n, timeout=10.0):
    """The next ``n`` items of a watch, bookmarks left out."""
    items = []
    async with asyncio.timeout(timeout):
        while len(items) < n:
            item = await anext(watch)
            if isinstance(item, Resync) or item.type != BOOKMARK:
                items.append(item)
    return items


async def until(predicate, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def summary(items):
    return [
        item if isinstance(item, Resync) else (item.type, item.connection.connection_name) for item in items
    ]


async def create(client, name):
    return (await client.create_connection(connection_name=name, provider_type="GITHUB")).connection


# --- watch_connections -----------------------------------------------------------


async def test_async_watch_yields_the_snapshot_then_synced_then_the_handshake(target, control):
    """ADDED (pending), SYNCED, then MODIFIED (available) once the store learns of the handshake."""
    async with AsyncAppRunnerClient(target) as client:
        created = await create(client, "watched")
        await create(client, "not-watched")
        async with client.watch_connections(connection_names=["watched"]) as watch:
            added, synced = await take(watch, 2)
            assert watch.resume_token == synced.resume_token
            await control.complete_handshake(created.connection_arn, status="AVAILABLE")
            await client.get_connection(connection_arn=created.connection_arn, metadata=CONSISTENT)
            (modified,) = await take(watch, 1)
    assert (added.type, added.connection.status) == (ADDED, PENDING)
    assert synced.type == SYNCED
    assert (modified.type, modified.connection.connection_name) == (MODIFIED, "watched")
    assert modified.connection.status == AVAILABLE
    assert modified.revision > synced.revision


async def test_async_watch_resumes_after_the_server_ends_its_stream(target, hub, openings):
    """close_all() ends the stream with UNAVAILABLE and a token: later changes arrive once, in order."""
    async with AsyncAppRunnerClient(target) as client:
        await create(client, "before")
        async with client.watch_connections(max_backoff=FAST) as watch:
            assert summary(await take(watch, 2)) == [(ADDED, "before"), (SYNCED, "")]
            hub.close_all()  # as at shutdown; watches opened after it are not affected
            for name in ("meanwhile-1", "meanwhile-2", "meanwhile-3"):
                await create(client, name)
            resumed = await take(watch, 3)
            await create(client, "after")
            (after,) = await take(watch, 1)
    assert summary(resumed) == [(ADDED, "meanwhile-1"), (ADDED, "meanwhile-2"), (ADDED, "meanwhile-3")]
    assert summary([after]) == [(ADDED, "after")]
    revisions = [e.revision for e in (*resumed, after)]
    assert revisions == sorted(set(revisions))
    assert [bool(token) for token in openings] == [False, True]  # reopened from a token, not a snapshot


class TestSlowConsumer:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, watch_buffer=2)

    async def test_async_watch_resumes_after_falling_behind(self, target, backend, openings):
        """A batch bigger than the buffer ends the stream (RESOURCE_EXHAUSTED); the watch resumes."""
        names = [f"out-of-band-{i}" for i in range(4)]
        params = [{"ConnectionName": name, "ProviderType": "GITHUB"} for name in names]
        async with (
            AsyncAppRunnerClient(target) as client,
            client.watch_connections(max_backoff=FAST) as watch,
        ):
            assert summary(await take(watch, 1)) == [(SYNCED, "")]
            for one in params:  # behind the facade's back: the store learns them in one listing
                await backend.call(Service.APPRUNNER, "CreateConnection", one)
            await client.list_connections(metadata=CONSISTENT)
            events = await take(watch, len(names))
        assert sorted(summary(events)) == [(ADDED, name) for name in names]
        assert [bool(token) for token in openings] == [False, True]


class TestShortHistory:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, history_limit=3)

    async def test_async_watch_resyncs_when_its_position_left_the_history(self, target, hub, openings):
        """More changes than the history holds while disconnected: Resync, then a fresh snapshot."""
        async with AsyncAppRunnerClient(target) as client:
            await create(client, "first")
            async with client.watch_connections(max_backoff=FAST) as watch:
                await take(watch, 2)
                hub.close_all()
                later = [f"later-{i}" for i in range(5)]
                for name in later:
                    await create(client, name)
                items = await take(watch, 1 + 6 + 1)
        resync, *snapshot, synced = items
        assert isinstance(resync, Resync)
        assert resync.reason == "RESUME_TOKEN_TOO_OLD"
        assert sorted(summary(snapshot)) == [(ADDED, name) for name in sorted(["first", *later])]
        assert synced.type == SYNCED
        assert [bool(token) for token in openings] == [False, True, False]


async def test_a_token_of_another_server_process_resyncs_the_codestar_watch(target):
    """A token this process did not issue (e.g. before a restart): Resync, then the snapshot."""
    async with AsyncCodeStarConnectionsClient(target) as client:
        await client.create_connection(connection_name="cs-watched", provider_type="GitHub")
        foreign = "eyJlIjoiMDAiLCJyIjoxLCJzIjoiY29kZXN0YXItY29ubmVjdGlvbnMifQ.AAAAAAAAAAAAAAAAAAAAAA"
        async with client.watch_connections(resume_token=foreign, provider_types=["GitHub"]) as watch:
            resync, added, synced = await take(watch, 3)
    assert resync.reason == "RESUME_TOKEN_UNKNOWN"
    assert (added.type, added.connection.connection_name) == (cs.EVENT_TYPE_ADDED, "cs-watched")
    assert added.connection.connection_status == cs.CONNECTION_STATUS_PENDING_HANDSHAKE
    assert synced.type == cs.EVENT_TYPE_SYNCED


async def test_breaking_out_of_a_watch_frees_its_watcher_on_the_server(target, hub):
    """After break the dropped watch cancels its call, and the server forgets the watcher."""
    async with AsyncAppRunnerClient(target) as client:
        async for _ in client.watch_connections():
            break
        await until(lambda: len(hub) == 0)


# --- wait_for_connection ----------------------------------------------------------


async def test_async_wait_returns_once_the_handshake_completes(target, control, hub):
    """The call waits while the connection is pending and answers with it once AVAILABLE."""
    async with AsyncAppRunnerClient(target) as client:
        created = await create(client, "awaited")
        waiting = asyncio.create_task(client.wait_for_connection(connection_arn=created.connection_arn))
        await until(lambda: hub.waiters == 1)
        assert not waiting.done()
        await control.complete_handshake(created.connection_arn, status="AVAILABLE")
        await client.get_connection(connection_arn=created.connection_arn, metadata=CONSISTENT)
        response = await asyncio.wait_for(waiting, 10)
    assert (response.connection.connection_name, response.connection.status) == ("awaited", AVAILABLE)


async def test_async_wait_answers_at_once_fails_when_missing_or_deleted_and_honours_its_deadline(target, hub):
    """Already there: at once. Missing, or deleted meanwhile: NOT_FOUND. timeout=: DEADLINE_EXCEEDED."""
    async with AsyncAppRunnerClient(target) as client:
        created = await create(client, "pending-one")
        already = await client.wait_for_connection(
            connection_name="pending-one", statuses=["PENDING_HANDSHAKE"]
        )
        assert already.connection.connection_arn == created.connection_arn
        with pytest.raises(NotFoundError):
            await client.wait_for_connection(connection_name="nobody")
        with pytest.raises(DeadlineExceededError):
            await client.wait_for_connection(connection_arn=created.connection_arn, timeout=0.3)
        waiting = asyncio.create_task(client.wait_for_connection(connection_arn=created.connection_arn))
        await until(lambda: hub.waiters == 1)
        await client.delete_connection(connection_arn=created.connection_arn)
        with pytest.raises(NotFoundError):
            await asyncio.wait_for(waiting, 10)


async def test_sync_client_waits_and_watches(target, control, hub):
    """The blocking client, from threads: a wait that completes, its errors, and a watch."""
    async with AsyncAppRunnerClient(target) as helper:
        created = await create(helper, "sync-awaited")
    arn = created.connection_arn

    def wait_for_it():
        with AppRunnerClient(target) as client:
            return client.wait_for_connection(connection_arn=arn, statuses=["AVAILABLE"]).connection

    def the_rest():
        with AppRunnerClient(target) as client:
            with pytest.raises(DeadlineExceededError):
                client.wait_for_connection(connection_arn=arn, statuses=["ERROR"], timeout=0.3)
            with pytest.raises(NotFoundError):
                client.wait_for_connection(connection_name="nobody")
            with client.watch_connections(connection_arns=[arn]) as watch:
                return [next(watch), next(watch)]

    waiting = asyncio.create_task(asyncio.to_thread(wait_for_it))
    await until(lambda: hub.waiters == 1)
    await control.complete_handshake(arn, status="AVAILABLE")
    async with AsyncAppRunnerClient(target) as helper:
        await helper.get_connection(connection_arn=arn, metadata=CONSISTENT)
    assert (await asyncio.wait_for(waiting, 10)).status == AVAILABLE
    added, synced = await asyncio.to_thread(the_rest)
    assert (added.type, added.connection.status, synced.type) == (ADDED, AVAILABLE, SYNCED)
    await until(lambda: len(hub) == 0)  # leaving the with block cancelled the call


# --- the commands -----------------------------------------------------------------


def _environment():
    # faulthandler: a CLI that hangs can be made to print where (SIGABRT below).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "PYTHONFAULTHANDLER": "1"}


async def exit_code_after_interrupt(proc, wait=20):
    """Ctrl-C, then the exit code; a CLI still running after ``wait`` s fails with its threads' stacks."""
    proc.send_signal(signal.SIGINT)
    try:
        return await asyncio.wait_for(proc.wait(), wait)
    except TimeoutError:
        proc.send_signal(signal.SIGABRT)
        _, err = await proc.communicate()
        pytest.fail(f"the CLI did not exit {wait} s after Ctrl-C:\n{err.decode(errors='replace')[-6000:]}")


async def start_cli(target, *args):
    _children_get_ctrl_c()
    return await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "--target",
        target,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=_environment(),
    )


def _children_get_ctrl_c():
    """As from a terminal: a suite started in the background (`cmd &` in a script) ignores SIGINT.

    Children inherit an ignored signal (a handled one is reset at exec), and
    Python then never turns Ctrl-C into KeyboardInterrupt. (Not preexec_fn:
    forking without exec runs gRPC's fork handlers, which write to the
    child's stderr.)
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


async def run_cli(target, *args):
    proc = await start_cli(target, *args)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    return proc.returncode, out.decode(), err.decode()


async def read_line(proc):
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert line, (await proc.stderr.read()).decode()
    return json.loads(line)


async def test_cli_watch_prints_a_json_line_per_event_until_ctrl_c(target, control):
    """`connfacade apprunner watch-connections`: ADDED, SYNCED, then the handshake; Ctrl-C exits 0."""
    async with AsyncAppRunnerClient(target) as client:
        await create(client, "cli-before")
        proc = await start_cli(target, "apprunner", "watch-connections")
        try:
            before, synced = await read_line(proc), await read_line(proc)
            created = await create(client, "cli-watched")
            added = await read_line(proc)
            await control.complete_handshake(created.connection_arn, status="AVAILABLE")
            await client.get_connection(connection_arn=created.connection_arn, metadata=CONSISTENT)
            modified = await read_line(proc)
            assert await exit_code_after_interrupt(proc) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert (before["type"], before["connection"]["connection_name"]) == ("ADDED", "cli-before")
    assert (synced["type"], synced["connection"]) == ("SYNCED", None)
    assert (added["type"], added["connection"]["status"]) == ("ADDED", "CONNECTION_STATUS_PENDING_HANDSHAKE")
    assert (modified["type"], modified["connection"]["status"]) == ("MODIFIED", "CONNECTION_STATUS_AVAILABLE")
    assert modified["revision"] > added["revision"] > synced["revision"]
    assert modified["resume_token"]


async def test_cli_wait_for_connection_prints_it_or_the_error(target, control, hub):
    """The command waits for the handshake; NOT_FOUND and an exceeded --timeout exit 1 with JSON."""
    async with AsyncAppRunnerClient(target) as client:
        created = await create(client, "cli-awaited")
        arn = created.connection_arn
        waiting = asyncio.create_task(
            run_cli(target, "apprunner", "wait-for-connection", "--connection-arn", arn)
        )
        failing = asyncio.gather(
            run_cli(target, "apprunner", "wait-for-connection", "--connection-name", "nobody"),
            run_cli(
                target,
                "--timeout",
                "0.5",
                "apprunner",
                "wait-for-connection",
                "--connection-name",
                "cli-awaited",
                "--statuses",
                "ERROR",
            ),
        )
        (missing, missing_err), (late, late_err) = [(code, err) for code, _, err in await failing]
        await until(lambda: hub.waiters == 1, timeout=20)  # the first command, still waiting
        await control.complete_handshake(arn, status="AVAILABLE")
        await client.get_connection(connection_arn=arn, metadata=CONSISTENT)
        code, out, err = await waiting
    assert code == 0, err
    assert json.loads(out)["connection"]["status"] == "CONNECTION_STATUS_AVAILABLE"
    assert (missing, json.loads(missing_err)["code"]) == (1, "NOT_FOUND")
    assert (late, json.loads(late_err)["code"]) == (1, "DEADLINE_EXCEEDED")
