"""What each RPC is, in one table: does it change AWS, is it safe to retry, who may call it.

Every other list of RPCs derives from this one: the server's audit (which
calls are mutations, always recorded and written ahead), its authorization
(what a viewer may call), its limits (which calls are held open and count as
watchers), its idempotency (which calls a UUID ``x-request-id`` makes run
once), the shipped clients' retry rules and the benchmarks. A test walks every
method of every service in the descriptors and fails on one this table leaves
out, and the server refuses to start with such a method.

It lives with the client because both sides read it and the client must not
import the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "HELD",
    "IDEMPOTENT",
    "MUTATIONS",
    "POLICY",
    "VIEWER",
    "RpcPolicy",
    "UnclassifiedRpcError",
    "policy_of",
]


@dataclass(frozen=True, slots=True)
class RpcPolicy:
    """How the facade treats one RPC."""

    mutates: bool = False
    """Changes AWS: audited at every level, its intent written before AWS is called."""
    idempotent: bool = False
    """Runs once per UUID ``x-request-id`` (AIP-155): clients retry it under one id."""
    viewer: bool = False
    """A principal with the viewer role may call it (editors may call every RPC)."""
    held: bool = False
    """Held open by design (a stream, a wait): counts against watcher limits, not calls in flight."""


_READ = RpcPolicy(viewer=True)
_HELD = RpcPolicy(viewer=True, held=True)
_CHANGE = RpcPolicy(mutates=True)
_CREATE_OR_DELETE = RpcPolicy(mutates=True, idempotent=True)

_APPRUNNER = "connfacade.apprunner.v1.ConnectionService"
_CODESTAR = "connfacade.codestar.v1.ConnectionService"
_HOSTS = "connfacade.codestar.v1.HostService"

_CONNECTIONS = {
    "CreateConnection": _CREATE_OR_DELETE,
    "GetConnection": _READ,
    "ListConnections": _READ,
    "DeleteConnection": _CREATE_OR_DELETE,
    "TagResource": _CHANGE,
    "UntagResource": _CHANGE,
    "ListTagsForResource": _READ,
    "WatchConnections": _HELD,
    "WaitForConnection": _HELD,
}
_HOST_RPCS = {
    "CreateHost": _CREATE_OR_DELETE,
    "GetHost": _READ,
    "ListHosts": _READ,
    "DeleteHost": _CREATE_OR_DELETE,
    "UpdateHost": _CHANGE,
}

POLICY: Mapping[str, RpcPolicy] = MappingProxyType(
    {
        **{f"{_APPRUNNER}/{name}": policy for name, policy in _CONNECTIONS.items()},
        **{f"{_CODESTAR}/{name}": policy for name, policy in _CONNECTIONS.items()},
        **{f"{_HOSTS}/{name}": policy for name, policy in _HOST_RPCS.items()},
    }
)
"""Every RPC of the facade's services, by full method name (``package.Service/Method``)."""


class UnclassifiedRpcError(LookupError):
    """An RPC the policy table does not classify: serving it could leave a mutation unaudited."""


def policy_of(full_method: str, table: Mapping[str, RpcPolicy] = POLICY) -> RpcPolicy:
    """The policy of ``package.Service/Method``; raises UnclassifiedRpcError for one not in ``table``."""
    try:
        return table[full_method]
    except KeyError:
        raise UnclassifiedRpcError(
            f"{full_method} is not in the RPC policy table (connfacade.client.policy): "
            "classify it before serving it"
        ) from None


def _names(keep: Callable[[RpcPolicy], bool]) -> frozenset[str]:
    """Method names (without service) whose policy ``keep`` selects.

    The server's components key by method name; a name shared by two services
    has one policy in both, which the table's test checks.
    """
    return frozenset(full.rpartition("/")[2] for full, policy in POLICY.items() if keep(policy))


MUTATIONS = _names(lambda p: p.mutates)
IDEMPOTENT = _names(lambda p: p.idempotent)
VIEWER = _names(lambda p: p.viewer)
HELD = _names(lambda p: p.held)
