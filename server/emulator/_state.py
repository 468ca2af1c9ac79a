"""The emulator's resources, their quotas, and the handshake life cycle."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from connfacade.server.emulator._arns import canonical_codestar_arn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

AVAILABLE = "AVAILABLE"
ERROR = "ERROR"
APPRUNNER_PENDING = "PENDING_HANDSHAKE"
CODESTAR_PENDING = "PENDING"
DELETED = "DELETED"
HOST_STATUSES = frozenset(
    {
        CODESTAR_PENDING,
        AVAILABLE,
        ERROR,
        "VPC_CONFIG_INITIALIZING",
        "VPC_CONFIG_FAILED_INITIALIZATION",
        "VPC_CONFIG_DELETING",
    }
)


@dataclass(frozen=True, slots=True)
class Quotas:
    """Per-resource and per-account limits, with AWS's defaults.

    App Runner's connections-per-region quota is not published in the API
    reference; 100 is this emulator's default, configurable like the others.
    """

    apprunner_connections_per_region: int = 100
    apprunner_tags_per_resource: int = 50
    codestar_connections_per_account: int = 250
    codestar_hosts_per_account: int = 50
    codestar_tags_per_resource: int = 200

    def updated(self, changes: Mapping[str, object]) -> Quotas:
        """Return a copy with ``changes`` applied; keys are the JSON names of :meth:`to_json`."""
        names = {_json_name(f.name): f.name for f in fields(self)}
        updates: dict[str, int] = {}
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"unknown quota {key!r}; known: {', '.join(sorted(names))}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"quota {key} must be a non-negative integer")
            updates[names[key]] = value
        return replace(self, **updates)

    def to_json(self) -> dict[str, int]:
        """The quotas under their JSON names, e.g. ``AppRunnerConnectionsPerRegion``."""
        return {_json_name(f.name): getattr(self, f.name) for f in fields(self)}


def _json_name(attribute: str) -> str:
    words = attribute.split("_")
    head = {"apprunner": "AppRunner", "codestar": "CodeStar"}[words[0]]
    return head + "".join(w.capitalize() for w in words[1:])


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """AWS's list-of-pairs form of a resource's tags."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass(eq=False)
class AppRunnerConnection:
    """An App Runner connection; regional."""

    arn: str
    name: str
    provider_type: str
    region: str
    seq: int
    created_at: float
    tags: dict[str, str]
    status: str = APPRUNNER_PENDING
    in_use: bool = False
    auto_at: float | None = None

    def describe(self) -> dict[str, Any]:
        """The ``Connection`` / ``ConnectionSummary`` shape."""
        return {
            "ConnectionName": self.name,
            "ConnectionArn": self.arn,
            "ProviderType": self.provider_type,
            "Status": self.status,
            "CreatedAt": self.created_at,
        }


@dataclass(eq=False)
class CodeStarConnection:
    """A CodeStar connection; global per account, its ARN names the region it was created in."""

    arn: str
    name: str
    provider_type: str
    owner_account_id: str
    seq: int
    tags: dict[str, str]
    host_arn: str | None = None
    status: str = CODESTAR_PENDING
    auto_at: float | None = None

    def describe(self) -> dict[str, Any]:
        """The ``Connection`` shape."""
        out = {
            "ConnectionName": self.name,
            "ConnectionArn": self.arn,
            "ProviderType": self.provider_type,
            "OwnerAccountId": self.owner_account_id,
            "ConnectionStatus": self.status,
        }
        if self.host_arn is not None:
            out["HostArn"] = self.host_arn
        return out


@dataclass(eq=False)
class Host:
    """A CodeStar host: where a self-managed provider is installed."""

    arn: str
    name: str
    provider_type: str
    provider_endpoint: str
    seq: int
    tags: dict[str, str]
    vpc_configuration: dict[str, Any] | None = None
    status: str = CODESTAR_PENDING
    status_message: str | None = None
    auto_at: float | None = None

    def describe(self, *, with_arn: bool) -> dict[str, Any]:
        """The ``Host`` shape (ListHosts) or, without the ARN, GetHost's output."""
        out: dict[str, Any] = {"Name": self.name}
        if with_arn:
            out["HostArn"] = self.arn
        out |= {"ProviderType": self.provider_type, "ProviderEndpoint": self.provider_endpoint}
        if self.vpc_configuration is not None:
            out["VpcConfiguration"] = self.vpc_configuration
        out["Status"] = self.status
        if self.status_message is not None:
            out["StatusMessage"] = self.status_message
        return out


Resource = AppRunnerConnection | CodeStarConnection | Host


@dataclass
class EmulatorState:
    """Everything the emulated services remember, for one account."""

    account_id: str
    quotas: Quotas = field(default_factory=Quotas)
    auto_complete_seconds: float | None = None
    clock: Callable[[], float] = time.monotonic
    apprunner: dict[str, dict[str, AppRunnerConnection]] = field(default_factory=dict)
    codestar: dict[str, CodeStarConnection] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    empty_pages: dict[str, int | None] = field(default_factory=dict)  # service -> count; None: for ever
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_seq(self) -> int:
        """A creation sequence number: list order and the position NextTokens hold."""
        return next(self._seq)

    def auto_complete_at(self) -> float | None:
        """When a resource created now completes its handshake by itself, if configured."""
        if self.auto_complete_seconds is None:
            return None
        return self.clock() + self.auto_complete_seconds

    def settle(self) -> None:
        """Complete the handshakes whose automatic delay has passed.

        Done lazily at each request: nobody can observe a status without asking.
        """
        now = self.clock()
        for resource in self.resources():
            if resource.auto_at is not None and resource.auto_at <= now:
                resource.auto_at = None
                if resource.status in (APPRUNNER_PENDING, CODESTAR_PENDING):
                    resource.status = AVAILABLE

    def resources(self) -> Iterator[Resource]:
        """Every resource of every service and region."""
        for regional in self.apprunner.values():
            yield from regional.values()
        yield from self.codestar.values()
        yield from self.hosts.values()

    def find(self, arn: str) -> Resource | None:
        """The resource an ARN names, whichever service and region it lives in."""
        canonical = canonical_codestar_arn(arn)
        found: Resource | None = self.codestar.get(canonical) or self.hosts.get(canonical)
        if found is not None:
            return found
        for regional in self.apprunner.values():
            if arn in regional:
                return regional[arn]
        return None

    def set_status(self, resource: Resource, status: str) -> None:
        """Complete, fail or re-open a handshake (the console's part, done by a control call)."""
        if isinstance(resource, Host):
            allowed = HOST_STATUSES
        elif isinstance(resource, AppRunnerConnection):
            status = APPRUNNER_PENDING if status == CODESTAR_PENDING else status
            allowed = frozenset({APPRUNNER_PENDING, AVAILABLE, ERROR})
        else:
            status = CODESTAR_PENDING if status == APPRUNNER_PENDING else status
            allowed = frozenset({CODESTAR_PENDING, AVAILABLE, ERROR})
        if status not in allowed:
            raise ValueError(f"Status must be one of {', '.join(sorted(allowed))}, not {status!r}")
        resource.status = status
        resource.auto_at = None

    def take_empty_page(self, service: str) -> bool:
        """Whether the next list call of ``service`` must answer an empty page with a token."""
        left = self.empty_pages.get(service, 0)
        if left is None:
            return True
        if left <= 0:
            return False
        self.empty_pages[service] = left - 1
        return True

    def reset(self) -> None:
        """Forget every resource and pending empty page; keep account, quotas and config."""
        self.apprunner.clear()
        self.codestar.clear()
        self.hosts.clear()
        self.empty_pages.clear()
