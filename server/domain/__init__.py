"""Domain types of connfacade: what a connection is, what can go wrong.

Nothing here imports grpc, protobuf or botocore: servicers translate protos to
these types and backends translate AWS payloads to them.
"""

from connfacade.server.domain.errors import (
    AccessDenied,
    AuditUnavailable,
    AuthenticationFailed,
    Conflict,
    DeadlineExceeded,
    DomainError,
    FieldViolation,
    InvalidArgument,
    InvalidRequest,
    NotFound,
    OutOfRange,
    PermissionDenied,
    PreconditionViolation,
    QuotaExceeded,
    RateLimited,
    Throttled,
    Unauthenticated,
    Unavailable,
    UpstreamInternal,
)
from connfacade.server.domain.models import (
    Connection,
    ConnectionStatus,
    Host,
    Page,
    ProviderType,
    Service,
    Tag,
    VpcConfiguration,
    arn_key,
)

__all__ = [
    "AccessDenied",
    "AuditUnavailable",
    "AuthenticationFailed",
    "Conflict",
    "Connection",
    "ConnectionStatus",
    "DeadlineExceeded",
    "DomainError",
    "FieldViolation",
    "Host",
    "InvalidArgument",
    "InvalidRequest",
    "NotFound",
    "OutOfRange",
    "Page",
    "PermissionDenied",
    "PreconditionViolation",
    "ProviderType",
    "QuotaExceeded",
    "RateLimited",
    "Service",
    "Tag",
    "Throttled",
    "Unauthenticated",
    "Unavailable",
    "UpstreamInternal",
    "VpcConfiguration",
    "arn_key",
]
