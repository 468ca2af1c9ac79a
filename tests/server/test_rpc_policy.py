"""One table classifies every RPC, and everything that treats RPCs differently reads it."""

from __future__ import annotations

from types import MappingProxyType

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import policy
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2
from connfacade.server.api import audit_trail
from connfacade.server.api.registry import register
from connfacade.server.drain import Drain
from connfacade.server.metrics import Metrics
from connfacade.server.operations import idempotency
from connfacade.server.security import _gate

SERVICES = [
    service
    for module in (apprunner_pb2, codestar_pb2, host_service_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
]
DESCRIBED = {
    f"{service.full_name}/{method.name}": method for service in SERVICES for method in service.methods
}


@pytest.mark.parametrize("full_method", sorted(DESCRIBED))
def test_every_rpc_in_the_descriptors_is_classified(full_method):
    """A method of any service the facade serves has a policy in the table."""
    assert full_method in policy.POLICY, f"{full_method} is missing from connfacade.client.policy.POLICY"


def test_the_table_names_no_rpc_the_descriptors_lack():
    """An entry for a method that does not exist (renamed, removed) is a stale fact."""
    assert set(policy.POLICY) <= set(DESCRIBED)


def test_an_rpc_of_one_name_has_one_policy_in_every_service():
    """The server's components key by method name, so a name shared by services must mean one thing."""
    by_name: dict[str, set[policy.RpcPolicy]] = {}
    for full_method, rpc_policy in policy.POLICY.items():
        by_name.setdefault(full_method.rpartition("/")[2], set()).add(rpc_policy)
    assert {name: policies for name, policies in by_name.items() if len(policies) > 1} == {}


def test_held_rpcs_are_the_server_streams_and_the_waits():
    """A stream the server holds open counts as a watcher; WaitForConnection is held until a change too."""
    streaming = {name for name, method in DESCRIBED.items() if method.server_streaming}
    held = {name for name, rpc_policy in policy.POLICY.items() if rpc_policy.held}
    assert streaming <= held
    assert {name.rpartition("/")[2] for name in held} == {"WatchConnections", "WaitForConnection"}


def test_every_idempotent_rpc_is_a_mutation_and_no_viewer_may_mutate():
    """Idempotency by request id is about changes; a viewer only reads."""
    for full_method, rpc_policy in policy.POLICY.items():
        assert rpc_policy.mutates or not rpc_policy.idempotent, full_method
        assert not (rpc_policy.mutates and rpc_policy.viewer), full_method


def test_audit_authorization_limits_and_idempotency_read_the_table():
    """No component keeps a list of its own: each is the table's."""
    assert audit_trail.MUTATIONS is policy.MUTATIONS
    assert _gate.VIEWER_METHODS is policy.VIEWER
    assert _gate.HELD_METHODS is policy.HELD
    assert idempotency.IDEMPOTENT_OPERATIONS is policy.IDEMPOTENT


async def test_a_method_the_table_leaves_out_stops_the_start():
    """Registering a service with an unclassified method raises before anything is served."""
    service = apprunner_pb2.DESCRIPTOR.services_by_name["ConnectionService"]
    left_out = f"{service.full_name}/TagResource"
    table = MappingProxyType({k: v for k, v in policy.POLICY.items() if k != left_out})
    server = grpc.aio.server()
    with pytest.raises(policy.UnclassifiedRpcError, match="TagResource"):
        register(server, object(), service, Metrics(), Drain(), table=table)


def test_policy_of_names_the_table_to_change():
    """The error says where the missing classification goes."""
    with pytest.raises(policy.UnclassifiedRpcError, match=r"connfacade\.client\.policy"):
        policy.policy_of("connfacade.example.v1.Service/Nothing")
