"""Contracts with the protos: every RPC has a client method and a command, named after it."""

from __future__ import annotations

import inspect
import typing

import pytest

import connfacade.client
from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import _cli_spec, aio, sync, watch
from connfacade.client._convert import snake_case
from connfacade.client.cli import build_parser
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2 as host_pb2

_CALL_OPTIONS = {"timeout", "metadata"}
# A streaming RPC's method also says how it reconnects.
_STREAM_OPTIONS = {"max_backoff"}

# Each client class and the services whose every RPC it must offer.
_CLIENT_SERVICES = {
    "AppRunnerClient": [apprunner_pb2.DESCRIPTOR.services_by_name["ConnectionService"]],
    "CodeStarConnectionsClient": [
        codestar_pb2.DESCRIPTOR.services_by_name["ConnectionService"],
        host_pb2.DESCRIPTOR.services_by_name["HostService"],
    ],
}

_CASES = [
    (module, class_name, method)
    for module in (aio, sync)
    for class_name, services in _CLIENT_SERVICES.items()
    for service in services
    for method in service.methods
]


@pytest.mark.parametrize(
    ("module", "class_name", "method"),
    _CASES,
    ids=[f"{m.__name__.rsplit('.', 1)[1]}-{c}-{rpc.name}" for m, c, rpc in _CASES],
)
def test_every_rpc_has_a_client_method_taking_its_request_fields(module, class_name, method):
    """The method is the RPC's snake_case name; its keyword-only parameters are the request fields."""
    client_class = getattr(module, class_name)
    function = getattr(client_class, snake_case(method.name), None)
    assert function is not None, f"{class_name} lacks {snake_case(method.name)} for {method.full_name}"
    parameters = list(inspect.signature(function).parameters.values())[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    names = {p.name for p in parameters} - _CALL_OPTIONS
    if method.server_streaming:
        names -= _STREAM_OPTIONS
    assert names == set(method.input_type.fields_by_name)
    assert {p.name for p in parameters} >= _CALL_OPTIONS


def test_async_methods_are_coroutines_and_sync_ones_are_not():
    """aio clients are awaited, sync ones are called; a streaming RPC gives a watch to iterate."""
    for class_name, services in _CLIENT_SERVICES.items():
        for service in services:
            for method in service.methods:
                name = snake_case(method.name)
                async_method = getattr(getattr(aio, class_name), name)
                sync_method = getattr(getattr(sync, class_name), name)
                assert not inspect.iscoroutinefunction(sync_method)
                if not method.server_streaming:
                    assert inspect.iscoroutinefunction(async_method)
                    continue
                assert not inspect.iscoroutinefunction(async_method)
                async_returns = typing.get_type_hints(async_method)["return"]
                sync_returns = typing.get_type_hints(sync_method)["return"]
                assert typing.get_origin(async_returns) is watch.AsyncConnectionWatch
                assert typing.get_origin(sync_returns) is watch.ConnectionWatch
                assert typing.get_args(async_returns) == typing.get_args(sync_returns)
                assert typing.get_args(async_returns)[0].DESCRIPTOR is method.output_type


@pytest.mark.parametrize("class_name", list(_CLIENT_SERVICES))
def test_sync_and_async_clients_offer_the_same_api(class_name):
    """The blocking client mirrors the asyncio one, method for method and parameter for parameter."""
    async_class, sync_class = getattr(aio, class_name), getattr(sync, class_name)
    public = {n for n in dir(async_class) if not n.startswith("_")}
    assert public == {n for n in dir(sync_class) if not n.startswith("_")}
    for name in public - {"channel"}:
        async_params = inspect.signature(getattr(async_class, name)).parameters
        sync_params = inspect.signature(getattr(sync_class, name)).parameters
        assert [(p.name, p.kind, p.default) for p in async_params.values()] == [
            (p.name, p.kind, p.default) for p in sync_params.values()
        ], name


def test_every_list_rpc_has_a_paginator():
    """Each RPC that pages with next_token has a paginate_* method on both clients."""
    for class_name, services in _CLIENT_SERVICES.items():
        for service in services:
            for method in service.methods:
                if _cli_spec.is_paginated(method):
                    paginate = _cli_spec.paginate_method(method)
                    assert hasattr(getattr(aio, class_name), paginate)
                    assert hasattr(getattr(sync, class_name), paginate)
    assert (
        _cli_spec.paginate_method(
            host_pb2.DESCRIPTOR.services_by_name["HostService"].methods_by_name["ListHosts"]
        )
        == "paginate_hosts"
    )


def test_command_table_lists_every_rpc_of_the_descriptors():
    """A new RPC in the protos must get a command entry (and a stale entry fails too)."""
    assert _cli_spec.unlisted_rpcs() == []
    for group, services in (
        ("apprunner", _CLIENT_SERVICES["AppRunnerClient"]),
        ("codestar", _CLIENT_SERVICES["CodeStarConnectionsClient"]),
    ):
        assert list(_cli_spec.SERVICES[group]) == services


def test_every_rpc_has_a_cli_subcommand():
    """The parser has one kebab-case subcommand per RPC, and nothing else."""
    parser = build_parser()
    groups = next(a for a in parser._actions if a.dest == "cli_command").choices
    for group in ("apprunner", "codestar"):
        commands = next(a for a in groups[group]._actions if a.dest == "cli_rpc").choices
        expected = {_cli_spec.command_name(m) for m in _cli_spec.methods(group)}
        assert set(commands) == expected


def test_every_command_flag_is_a_client_parameter():
    """The command passes each flag to the client method as the request field of that name."""
    for group, class_name in (("apprunner", "AppRunnerClient"), ("codestar", "CodeStarConnectionsClient")):
        for method in _cli_spec.methods(group):
            parameters = inspect.signature(
                getattr(getattr(sync, class_name), _cli_spec.client_method(method))
            ).parameters
            for flag in _cli_spec.request_flags(method):
                assert flag.field in parameters


def test_package_reexports_its_public_names():
    """Everything in __all__ exists, and the async clients carry an Async prefix."""
    for name in connfacade.client.__all__:
        assert hasattr(connfacade.client, name), name
    assert connfacade.client.AsyncAppRunnerClient is aio.AppRunnerClient
    assert connfacade.client.AppRunnerClient is sync.AppRunnerClient
