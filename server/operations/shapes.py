"""AWS JSON payloads ⇄ domain types, per service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connfacade.server.domain import (
    Connection,
    ConnectionStatus,
    Host,
    ProviderType,
    Service,
    Tag,
    VpcConfiguration,
)

APPRUNNER_PROVIDERS: dict[ProviderType, str] = {
    ProviderType.GITHUB: "GITHUB",
    ProviderType.BITBUCKET: "BITBUCKET",
}
CODESTAR_PROVIDERS: dict[ProviderType, str] = {
    ProviderType.GITHUB: "GitHub",
    ProviderType.BITBUCKET: "Bitbucket",
    ProviderType.GITHUB_ENTERPRISE_SERVER: "GitHubEnterpriseServer",
    ProviderType.GITLAB: "GitLab",
    ProviderType.GITLAB_SELF_MANAGED: "GitLabSelfManaged",
}
_FROM_APPRUNNER = {v: k for k, v in APPRUNNER_PROVIDERS.items()}
_FROM_CODESTAR = {v: k for k, v in CODESTAR_PROVIDERS.items()}
_CODESTAR_STATUS = {"PENDING": ConnectionStatus.PENDING_HANDSHAKE}


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(region, account, resource) of an ARN; empty strings where it has none."""
    parts = arn.split(":", 5)
    if len(parts) < 6:  # noqa: PLR2004 - an ARN has six colon-separated parts
        return "", "", ""
    return parts[3], parts[4], parts[5]


def apprunner_console_url(arn: str) -> str:
    """Where a person completes an App Runner connection's handshake."""
    region, _, _ = arn_parts(arn)
    return f"https://{region}.console.aws.amazon.com/apprunner/home?region={region}#/connections"


def codestar_console_url(arn: str) -> str:
    """Where a person completes a CodeStar connection's handshake."""
    region, account, resource = arn_parts(arn)
    connection_id = resource.rsplit("/", 1)[-1]
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/settings/{account}/{region}"
        f"/connections/{connection_id}?region={region}"
    )


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def apprunner_connection(data: Mapping[str, Any]) -> Connection:
    """An App Runner ``Connection`` / ``ConnectionSummary``."""
    arn = str(data.get("ConnectionArn", ""))
    return Connection(
        service=Service.APPRUNNER,
        arn=arn,
        name=str(data.get("ConnectionName", "")),
        provider_type=_FROM_APPRUNNER.get(str(data.get("ProviderType", ""))),
        status=ConnectionStatus(str(data.get("Status", "ERROR"))),
        created_at=_timestamp(data.get("CreatedAt")),
        console_url=apprunner_console_url(arn),
    )


def codestar_connection(data: Mapping[str, Any]) -> Connection:
    """A CodeStar ``Connection``."""
    arn = str(data.get("ConnectionArn", ""))
    raw_status = str(data.get("ConnectionStatus", "ERROR"))
    return Connection(
        service=Service.CODESTAR,
        arn=arn,
        name=str(data.get("ConnectionName", "")),
        provider_type=_FROM_CODESTAR.get(str(data.get("ProviderType", ""))),
        status=_CODESTAR_STATUS.get(raw_status) or ConnectionStatus(raw_status),
        owner_account_id=str(data.get("OwnerAccountId", "")),
        host_arn=str(data.get("HostArn", "")),
        console_url=codestar_console_url(arn),
    )


def host(data: Mapping[str, Any], arn: str = "") -> Host:
    """A CodeStar ``Host`` (or a ``GetHost`` output, which lacks the ARN)."""
    vpc = data.get("VpcConfiguration")
    return Host(
        arn=str(data.get("HostArn", arn)),
        name=str(data.get("Name", "")),
        provider_type=_FROM_CODESTAR.get(str(data.get("ProviderType", ""))),
        provider_endpoint=str(data.get("ProviderEndpoint", "")),
        status=str(data.get("Status", "")),
        status_message=str(data.get("StatusMessage", "")),
        vpc_configuration=vpc_configuration(vpc) if isinstance(vpc, Mapping) else None,
    )


def vpc_configuration(data: Mapping[str, Any]) -> VpcConfiguration:
    """A ``VpcConfiguration`` from AWS."""
    return VpcConfiguration(
        vpc_id=str(data.get("VpcId", "")),
        subnet_ids=tuple(data.get("SubnetIds", ())),
        security_group_ids=tuple(data.get("SecurityGroupIds", ())),
        tls_certificate=str(data.get("TlsCertificate", "")),
    )


def vpc_params(vpc: VpcConfiguration) -> dict[str, Any]:
    """A ``VpcConfiguration`` for AWS; empty members are left out for the model to judge."""
    out: dict[str, Any] = {
        "VpcId": vpc.vpc_id,
        "SubnetIds": list(vpc.subnet_ids),
        "SecurityGroupIds": list(vpc.security_group_ids),
    }
    if vpc.tls_certificate:
        out["TlsCertificate"] = vpc.tls_certificate
    return out


def tags_from_aws(data: Sequence[Mapping[str, Any]] | None) -> tuple[Tag, ...]:
    """AWS's ``[{"Key", "Value"}]`` as domain tags."""
    return tuple(Tag(str(t.get("Key", "")), str(t.get("Value", ""))) for t in data or ())


def tags_to_aws(tags: Sequence[Tag]) -> list[dict[str, str]]:
    """Domain tags as AWS's ``[{"Key", "Value"}]``."""
    return [{"Key": t.key, "Value": t.value} for t in tags]
