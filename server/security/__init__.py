"""Who may call, and how much: authentication, roles and scopes, rate, call, watcher and peer limits, TLS."""

from connfacade.server.security._authn import Authenticator
from connfacade.server.security._exposure import exposed, is_local
from connfacade.server.security._gate import OPEN_GATE, VIEWER_METHODS, Gate, require_role
from connfacade.server.security._limits import (
    CallCounts,
    FailureBudgets,
    RateLimiter,
    TokenBucket,
    TooManyFailures,
    WatcherCounts,
    peer_key,
)
from connfacade.server.security._principals import (
    ANONYMOUS,
    Directory,
    Principal,
    PrincipalsFileError,
    Role,
    bind_caller,
    caller,
    hash_token,
    load_principals,
    parse_principals,
)
from connfacade.server.security._tls import server_credentials

__all__ = [
    "ANONYMOUS",
    "OPEN_GATE",
    "VIEWER_METHODS",
    "Authenticator",
    "CallCounts",
    "Directory",
    "FailureBudgets",
    "Gate",
    "Principal",
    "PrincipalsFileError",
    "RateLimiter",
    "Role",
    "TokenBucket",
    "TooManyFailures",
    "WatcherCounts",
    "bind_caller",
    "caller",
    "exposed",
    "hash_token",
    "is_local",
    "load_principals",
    "parse_principals",
    "peer_key",
    "require_role",
    "server_credentials",
]
