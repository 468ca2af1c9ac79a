"""The waiting commands: watch-connections prints JSON lines; wait-for-connection waits without a deadline."""

from __future__ import annotations

import json
import threading

import grpc
import pytest
from google.rpc import error_details_pb2
from scripted_server import APPRUNNER, CODESTAR, rich_status

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import Resync, cli, sync
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2


@pytest.fixture(autouse=True)
def _no_target_from_the_environment(monkeypatch):
    monkeypatch.delenv(cli.TARGET_ENV, raising=False)


def _kwargs(*argv):
    namespace = cli.build_parser().parse_args(list(argv))
    return cli._request_kwargs(namespace, namespace.cli_flags)


def _run(capsys, server, *argv):
    code = cli.main(["--target", server.target, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_watch_flags():
    """Repeated enums take several names, the boolean is a switch, the interval is in seconds."""
    assert _kwargs(
        "apprunner",
        "watch-connections",
        "--connection-names",
        "a",
        "b",
        "--statuses",
        "AVAILABLE",
        "pending-handshake",
        "--provider-types",
        "github",
        "--skip-initial-snapshot",
        "--bookmark-interval",
        "2.5",
        "--resume-token",
        "t1",
    ) == {
        "connection_names": ["a", "b"],
        "statuses": [
            apprunner_pb2.CONNECTION_STATUS_AVAILABLE,
            apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE,
        ],
        "provider_types": [apprunner_pb2.PROVIDER_TYPE_GITHUB],
        "skip_initial_snapshot": True,
        "bookmark_interval": 2.5,
        "resume_token": "t1",
    }
    assert _kwargs("codestar", "watch-connections") == {}
    assert _kwargs("codestar", "wait-for-connection", "--connection-arn", "arn:c", "--statuses", "ERROR") == {
        "connection_arn": "arn:c",
        "statuses": [codestar_pb2.CONNECTION_STATUS_ERROR],
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["apprunner", "wait-for-connection"],  # neither ARN nor name
        ["apprunner", "wait-for-connection", "--connection-arn", "a", "--connection-name", "n"],
        ["codestar", "wait-for-connection"],
        ["apprunner", "watch-connections", "--statuses", "READY"],
        ["apprunner", "watch-connections", "--bookmark-interval", "0"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    """Missing, clashing or malformed flags of the new commands are usage errors."""
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_event_lines():
    """An event line: the short type, the revision as a number, the token, the connection or null."""
    event = apprunner_pb2.WatchConnectionsResponse(
        type=apprunner_pb2.EVENT_TYPE_MODIFIED,
        revision=12,
        resume_token="t12",
        connection=apprunner_pb2.Connection(
            connection_name="web", status=apprunner_pb2.CONNECTION_STATUS_AVAILABLE
        ),
    )
    line = cli._event_json(event)
    assert (line["type"], line["revision"], line["resume_token"]) == ("MODIFIED", 12, "t12")
    assert line["connection"]["status"] == "CONNECTION_STATUS_AVAILABLE"
    synced = cli._event_json(apprunner_pb2.WatchConnectionsResponse(type=apprunner_pb2.EVENT_TYPE_SYNCED))
    assert (synced["type"], synced["connection"]) == ("SYNCED", None)
    assert cli._event_json(Resync("RESUME_TOKEN_TOO_OLD", "list again")) == {
        "type": "RESYNC",
        "reason": "RESUME_TOKEN_TOO_OLD",
        "message": "list again",
    }


def _stream(*scripts):
    calls = iter(scripts)

    def handler(request, context):
        return next(calls)(request, context)

    return handler


def test_watch_prints_one_json_line_per_event_and_a_resync_line(capsys, scripted_server):
    """Each event is a line of its own; an error after some lines goes to stderr with exit 1."""
    too_old = rich_status(
        grpc.StatusCode.OUT_OF_RANGE,
        "list again",
        [error_details_pb2.ErrorInfo(reason="RESUME_TOKEN_TOO_OLD", domain="connfacade")],
    )
    denied = rich_status(grpc.StatusCode.PERMISSION_DENIED, "no")

    def first(request, context):
        context.abort_with_status(too_old)

    def second(request, context):
        yield apprunner_pb2.WatchConnectionsResponse(
            type=apprunner_pb2.EVENT_TYPE_ADDED,
            revision=3,
            resume_token="snap",
            connection=apprunner_pb2.Connection(connection_name="web"),
        )
        yield apprunner_pb2.WatchConnectionsResponse(
            type=apprunner_pb2.EVENT_TYPE_SYNCED, revision=3, resume_token="t3"
        )
        context.abort_with_status(denied)

    scripted_server.on(APPRUNNER, "WatchConnections", _stream(first, second))
    code, out, err = _run(
        capsys,
        scripted_server,
        "apprunner",
        "watch-connections",
        "--resume-token",
        "old",
        "--statuses",
        "ERROR",
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["type"] for line in lines] == ["RESYNC", "ADDED", "SYNCED"]
    assert lines[0]["reason"] == "RESUME_TOKEN_TOO_OLD"
    assert lines[1]["connection"]["connection_name"] == "web"
    assert (code, json.loads(err)["code"]) == (1, "PERMISSION_DENIED")
    old, fresh = scripted_server.calls
    assert (old.request.resume_token, fresh.request.resume_token) == ("old", "")
    assert list(fresh.request.statuses) == [apprunner_pb2.CONNECTION_STATUS_ERROR]
    assert old.deadline_seconds is None  # a watch has no deadline by default


def test_wait_has_no_deadline_unless_given_one(capsys, scripted_server):
    """wait-for-connection prints the connection; --timeout still bounds it."""

    def wait(request, context):
        return codestar_pb2.WaitForConnectionResponse(
            connection=codestar_pb2.Connection(
                connection_arn=request.connection_arn,
                connection_status=codestar_pb2.CONNECTION_STATUS_AVAILABLE,
            )
        )

    scripted_server.on(CODESTAR, "WaitForConnection", wait)
    code, out, _ = _run(
        capsys, scripted_server, "codestar", "wait-for-connection", "--connection-arn", "arn:c"
    )
    assert code == 0
    assert json.loads(out)["connection"]["connection_status"] == "CONNECTION_STATUS_AVAILABLE"
    code, _, _ = _run(
        capsys,
        scripted_server,
        "--timeout",
        "4",
        "codestar",
        "wait-for-connection",
        "--connection-arn",
        "arn:c",
    )
    unbounded, bounded = scripted_server.calls
    assert unbounded.deadline_seconds is None
    assert 3.0 < bounded.deadline_seconds < 4.5


def test_ctrl_c_ends_a_watch_with_0_and_a_wait_with_130(capsys, scripted_server, monkeypatch):
    """Ctrl-C is how a watch is meant to stop; for a wait it means giving up."""
    ended = threading.Event()

    def open_forever(request, context):
        context.add_callback(ended.set)
        yield apprunner_pb2.WatchConnectionsResponse(type=apprunner_pb2.EVENT_TYPE_SYNCED, resume_token="t1")
        ended.wait(10)

    scripted_server.on(APPRUNNER, "WatchConnections", open_forever)
    real_watch = sync.AppRunnerClient.watch_connections

    class InterruptedAfterOne:
        """The real watch, with Ctrl-C pressed after its first event."""

        def __init__(self, watch):
            self.watch = watch

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.watch.close()

        def __iter__(self):
            yield next(self.watch)
            raise KeyboardInterrupt

    def interrupted_after_one(self, **kwargs):
        return InterruptedAfterOne(real_watch(self, **kwargs))

    monkeypatch.setattr(sync.AppRunnerClient, "watch_connections", interrupted_after_one)
    code, out, _ = _run(capsys, scripted_server, "apprunner", "watch-connections")
    assert code == 0
    assert json.loads(out)["type"] == "SYNCED"
    assert ended.wait(5), "the call is cancelled on the way out"

    def interrupt(self, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sync.AppRunnerClient, "wait_for_connection", interrupt)
    code, _, _ = _run(capsys, scripted_server, "apprunner", "wait-for-connection", "--connection-name", "n")
    assert code == cli.INTERRUPTED == 130


def test_a_reader_that_leaves_ends_the_watch_quietly(monkeypatch, capsys):
    """`| head -3`: the broken pipe ends the command with 0 and no traceback."""

    class ClosedPipe:
        def write(self, _text):
            raise BrokenPipeError

        def fileno(self):
            return 99

    dup2_calls = []
    monkeypatch.setattr(cli.os, "open", lambda *_: 42)
    monkeypatch.setattr(cli.os, "dup2", lambda fd, target: dup2_calls.append((fd, target)))
    monkeypatch.setattr(cli.sys, "stdout", ClosedPipe())
    event = apprunner_pb2.WatchConnectionsResponse(type=apprunner_pb2.EVENT_TYPE_SYNCED)
    assert cli._print_events([event]) == 0
    assert dup2_calls == [(42, 99)]  # stdout now goes to /dev/null, so the exit flush cannot fail
