"""The connfacade command: argument parsing, JSON output and errors, and the serve hand-off."""

from __future__ import annotations

import json
import sys
import types

import grpc
import pytest
from google.rpc import error_details_pb2
from scripted_server import APPRUNNER, CODESTAR, HOSTS, abort_with, paged, rich_status

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import cli
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2 as host_pb2
from connfacade.codestar.v1 import types_pb2


@pytest.fixture(autouse=True)
def _no_target_from_the_environment(monkeypatch):
    monkeypatch.delenv(cli.TARGET_ENV, raising=False)


def _parse(*argv):
    return cli.build_parser().parse_args(list(argv))


def _kwargs(*argv):
    namespace = _parse(*argv)
    return cli._request_kwargs(namespace, namespace.cli_flags)


def _run(capsys, server, *argv):
    code = cli.main(["--target", server.target, *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- parsing -------------------------------------------------------------------


def test_create_connection_flags():
    """Flags are the request fields in kebab-case; tags are KEY=VALUE; enums are parsed."""
    kwargs = _kwargs(
        "apprunner",
        "create-connection",
        "--connection-name",
        "web",
        "--provider-type",
        "GITHUB",
        "--tags",
        "team=web",
        "empty=",
        "url=a=b",
    )
    assert kwargs == {
        "connection_name": "web",
        "provider_type": apprunner_pb2.PROVIDER_TYPE_GITHUB,
        "tags": {"team": "web", "empty": "", "url": "a=b"},
    }


def test_host_flags_flatten_the_vpc_configuration():
    """--vpc-id, --subnet-ids, --security-group-ids and --tls-certificate fill vpc_configuration."""
    kwargs = _kwargs(
        "codestar",
        "create-host",
        "--name",
        "ghe",
        "--provider-type",
        "GitHubEnterpriseServer",
        "--provider-endpoint",
        "https://ghe",
        "--vpc-id",
        "vpc-12345678",
        "--subnet-ids",
        "s-1",
        "s-2",
        "--security-group-ids",
        "sg-1",
        "--tls-certificate",
        "PEM",
    )
    assert kwargs["provider_type"] == types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER
    assert kwargs["vpc_configuration"] == {
        "vpc_id": "vpc-12345678",
        "subnet_ids": ["s-1", "s-2"],
        "security_group_ids": ["sg-1"],
        "tls_certificate": "PEM",
    }


def test_list_flags():
    """Filters, --max-results as a number, --next-token, --all."""
    namespace = _parse(
        "codestar",
        "list-connections",
        "--provider-type-filter",
        "gitlab",
        "--host-arn-filter",
        "arn:h",
        "--max-results",
        "5",
        "--all",
    )
    assert cli._request_kwargs(namespace, namespace.cli_flags) == {
        "provider_type_filter": types_pb2.PROVIDER_TYPE_GITLAB,
        "host_arn_filter": "arn:h",
        "max_results": 5,
    }
    assert namespace.cli_all is True
    assert _kwargs("apprunner", "untag-resource", "--resource-arn", "a", "--tag-keys", "k1", "k2") == {
        "resource_arn": "a",
        "tag_keys": ["k1", "k2"],
    }


def test_global_options_before_or_after_the_command():
    """--target, --timeout and --request-id work on either side of the subcommand."""
    before = _parse("--target", "unix:/s", "--timeout", "3", "apprunner", "list-connections")
    after = _parse("apprunner", "list-connections", "--target", "unix:/s", "--request-id", "r")
    assert (before.target, before.timeout) == ("unix:/s", 3.0)
    assert (after.target, after.request_id) == ("unix:/s", "r")
    assert not hasattr(_parse("apprunner", "list-connections"), "target")


@pytest.mark.parametrize(
    "argv",
    [
        ["apprunner", "create-connection", "--connection-name", "x"],  # provider type missing
        ["apprunner", "create-connection", "--connection-name", "x", "--provider-type", "GITLAB"],
        ["apprunner", "get-connection"],  # neither ARN nor name
        ["apprunner", "get-connection", "--connection-arn", "a", "--connection-name", "n"],
        ["apprunner", "tag-resource", "--resource-arn", "a", "--tags", "novalue"],
        ["apprunner", "list-connections", "--max-results", "many"],
        ["apprunner", "list-connections", "--timeout", "0"],
        ["apprunner", "create-host"],
        ["codestar", "get-host"],
        ["codestar"],
        [],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    """Missing, clashing or malformed flags are usage errors: exit code 2, nothing called."""
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_bad_enum_message_lists_the_choices(capsys):
    """The usage error for an unknown provider names the valid ones."""
    with pytest.raises(SystemExit):
        cli.main(["apprunner", "create-connection", "--connection-name", "x", "--provider-type", "svn"])
    assert "expected one of GITHUB, BITBUCKET" in capsys.readouterr().err


def test_all_cannot_start_from_a_token(capsys, scripted_server):
    """--all lists from the first page, so --next-token with it is a usage error."""
    with pytest.raises(SystemExit) as caught:
        _run(capsys, scripted_server, "codestar", "list-hosts", "--all", "--next-token", "t")
    assert caught.value.code == 2
    assert scripted_server.calls == []


# --- calls against a scripted server ---------------------------------------------


def test_response_is_printed_as_json(capsys, scripted_server):
    """stdout holds the response as JSON with proto field names and enum names."""

    def create(request, context):
        return apprunner_pb2.CreateConnectionResponse(
            connection=apprunner_pb2.Connection(
                connection_name=request.connection_name,
                provider_type=request.provider_type,
                status=apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE,
            )
        )

    scripted_server.on(APPRUNNER, "CreateConnection", create)
    code, out, err = _run(
        capsys,
        scripted_server,
        "apprunner",
        "create-connection",
        "--connection-name",
        "web",
        "--provider-type",
        "bitbucket",
        "--tags",
        "team=web",
    )
    assert (code, err) == (0, "")
    connection = json.loads(out)["connection"]
    assert connection["connection_name"] == "web"
    assert connection["provider_type"] == "PROVIDER_TYPE_BITBUCKET"
    assert connection["status"] == "CONNECTION_STATUS_PENDING_HANDSHAKE"
    assert scripted_server.calls[0].request.tags == [apprunner_pb2.Tag(key="team", value="web")]


def test_request_id_and_timeout_reach_the_server(capsys, scripted_server):
    """--request-id is sent as x-request-id; --timeout becomes the deadline."""
    code, _, _ = _run(
        capsys,
        scripted_server,
        "--timeout",
        "7",
        "--request-id",
        "req-cli",
        "codestar",
        "get-connection",
        "--connection-arn",
        "arn:c",
    )
    assert code == 0
    (call,) = scripted_server.calls
    assert call.metadata["x-request-id"] == "req-cli"
    assert 5.0 < call.deadline_seconds < 7.5


def test_target_from_the_environment(capsys, scripted_unix_server, monkeypatch):
    """CONNFACADE_TARGET names the server when --target is absent (a Unix socket here)."""
    monkeypatch.setenv(cli.TARGET_ENV, scripted_unix_server.target)
    assert cli.main(["codestar", "list-hosts"]) == 0
    assert json.loads(capsys.readouterr().out) == {"hosts": [], "next_token": ""}
    assert len(scripted_unix_server.calls) == 1


def test_error_is_json_on_stderr_with_exit_1(capsys, scripted_server):
    """A failed call prints code, message, field violations and request ids to stderr; exit 1."""
    status = rich_status(
        grpc.StatusCode.INVALID_ARGUMENT,
        "bad request",
        [
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field="host_arn", description="bad")
                ]
            ),
            error_details_pb2.ErrorInfo(reason="ValidationException", domain="codestar"),
        ],
        trailers=[("x-request-id", "r-9"), ("x-aws-request-id", "a-9")],
    )
    scripted_server.on(HOSTS, "DeleteHost", abort_with(status))
    code, out, err = _run(capsys, scripted_server, "codestar", "delete-host", "--host-arn", "x")
    assert (code, out) == (1, "")
    body = json.loads(err)
    assert body["code"] == "INVALID_ARGUMENT"
    assert body["message"] == "bad request"
    assert body["field_violations"] == [{"field": "host_arn", "description": "bad"}]
    assert body["request_id"] == "r-9"
    assert body["aws_request_id"] == "a-9"
    assert body["error_info"]["reason"] == "ValidationException"


def test_not_found_without_details(capsys, scripted_server):
    """A plain status still gives the JSON error object, with empty violations and null ids."""
    scripted_server.on(APPRUNNER, "GetConnection", abort_with(rich_status(grpc.StatusCode.NOT_FOUND, "gone")))
    code, _, err = _run(capsys, scripted_server, "apprunner", "get-connection", "--connection-name", "n")
    assert code == 1
    assert json.loads(err) == {
        "code": "NOT_FOUND",
        "message": "gone",
        "field_violations": [],
        "request_id": None,
        "aws_request_id": None,
    }


def test_all_merges_every_page(capsys, scripted_server):
    """--all follows tokens (through an empty page) and prints one response with every item."""
    scripted_server.on(
        CODESTAR,
        "ListConnections",
        paged(
            codestar_pb2.ListConnectionsResponse,
            "connections",
            {
                "": ([codestar_pb2.Connection(connection_name="a")], "t1"),
                "t1": ([], "t2"),
                "t2": ([codestar_pb2.Connection(connection_name="b")], ""),
            },
        ),
    )
    code, out, _ = _run(
        capsys, scripted_server, "codestar", "list-connections", "--all", "--max-results", "1"
    )
    assert code == 0
    body = json.loads(out)
    assert [c["connection_name"] for c in body["connections"]] == ["a", "b"]
    assert body["next_token"] == ""
    assert [call.request.max_results for call in scripted_server.calls] == [1, 1, 1]


def test_all_with_a_repeated_token_fails_cleanly(capsys, scripted_server):
    """A repeated page token is reported as a JSON error, exit 1, not an endless loop."""
    scripted_server.on(
        HOSTS, "ListHosts", paged(host_pb2.ListHostsResponse, "hosts", {"": ([], "t"), "t": ([], "t")})
    )
    code, _, err = _run(capsys, scripted_server, "codestar", "list-hosts", "--all")
    assert code == 1
    assert json.loads(err)["code"] == "PAGINATION_ERROR"


def test_unreachable_server_is_unavailable(capsys):
    """No server: UNAVAILABLE as a JSON error, exit 1."""
    code = cli.main(
        ["--target", "unix:/nonexistent/cf.sock", "--timeout", "2", "apprunner", "list-connections"]
    )
    assert code == 1
    assert json.loads(capsys.readouterr().err)["code"] == "UNAVAILABLE"


# --- serve -----------------------------------------------------------------------


def test_serve_hands_every_argument_to_the_server(monkeypatch):
    """`connfacade serve ...` calls connfacade.server.app.main with the arguments untouched."""
    received = []
    app = types.ModuleType("connfacade.server.app")

    def main(argv=None):
        received.append(argv)
        return 3

    app.main = main
    monkeypatch.setitem(sys.modules, "connfacade.server.app", app)
    assert cli.main(["serve", "--help", "--listen", "unix:/s"]) == 3
    assert cli.main(["--timeout", "1", "serve", "x"]) == 3
    assert received == [["--help", "--listen", "unix:/s"], ["x"]]


def test_serve_without_the_server_extra(monkeypatch, capsys):
    """When the server cannot be imported, serve says which extra to install and exits 1."""
    monkeypatch.setitem(sys.modules, "connfacade.server.app", None)
    assert cli.main(["serve"]) == 1
    assert (
        "connfacade serve needs the server extra: pip install 'connfacade[server]'" in capsys.readouterr().err
    )
