"""Connections, hosts and tags as the facade understands them, for both services."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from datetime import datetime

CODECONNECTIONS = "arn:aws:codeconnections:"
CODESTAR = "arn:aws:codestar-connections:"


def arn_key(arn: str) -> str:
    """One key for both names of a CodeStar ARN (AWS's 2024 rename); other ARNs are their own key."""
    return CODESTAR + arn.removeprefix(CODECONNECTIONS) if arn.startswith(CODECONNECTIONS) else arn


class Service(enum.Enum):
    """The AWS service a resource belongs to (its botocore service name)."""

    APPRUNNER = "apprunner"
    CODESTAR = "codestar-connections"


class ProviderType(enum.Enum):
    """A source code provider, named as in the protos; values per service below."""

    GITHUB = "GITHUB"
    BITBUCKET = "BITBUCKET"
    GITHUB_ENTERPRISE_SERVER = "GITHUB_ENTERPRISE_SERVER"
    GITLAB = "GITLAB"
    GITLAB_SELF_MANAGED = "GITLAB_SELF_MANAGED"


class ConnectionStatus(enum.Enum):
    """A connection's handshake state; CodeStar's PENDING is PENDING_HANDSHAKE."""

    PENDING_HANDSHAKE = "PENDING_HANDSHAKE"
    AVAILABLE = "AVAILABLE"
    ERROR = "ERROR"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Tag:
    """A key-value pair on a resource."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection of either service; fields the service lacks stay empty."""

    service: Service
    arn: str
    name: str
    provider_type: ProviderType | None
    status: ConnectionStatus
    created_at: datetime | None = None
    owner_account_id: str = ""
    host_arn: str = ""
    console_url: str = ""

    @property
    def pending(self) -> bool:
        """Whether a person still has to complete the handshake."""
        return self.status is ConnectionStatus.PENDING_HANDSHAKE


@dataclass(frozen=True, slots=True)
class VpcConfiguration:
    """Where a host's endpoint lives inside a VPC."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    tls_certificate: str = ""


@dataclass(frozen=True, slots=True)
class Host:
    """A CodeStar connections host of a self-managed provider."""

    arn: str
    name: str
    provider_type: ProviderType | None
    provider_endpoint: str
    status: str
    status_message: str = ""
    vpc_configuration: VpcConfiguration | None = None


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and the token that continues it ('' at the end)."""

    items: tuple[T, ...]
    next_token: str = ""
