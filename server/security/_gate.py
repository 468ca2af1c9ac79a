"""What every call passes before its handler: authentication (and its per-peer failure budget), rate limit,
role, calls in flight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connfacade.client import policy
from connfacade.server.domain import AccessDenied, Unauthenticated
from connfacade.server.security._authn import Authenticator
from connfacade.server.security._limits import (
    CallCounts,
    FailureBudgets,
    RateLimiter,
    WatcherCounts,
    peer_key,
)
from connfacade.server.security._principals import Principal, Role

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from connfacade.server.security._authn import AuthContext

# What a viewer may call (anything else needs an editor), and the calls held
# open by design, which count against the watcher limits instead of the calls
# in flight: both from the one RPC policy table (connfacade.client.policy).
VIEWER_METHODS = policy.VIEWER
HELD_METHODS = policy.HELD


def require_role(principal: Principal, method: str) -> None:
    """Raises AccessDenied unless ``principal``'s role allows ``method`` (e.g. ``DeleteConnection``)."""
    if principal.role is Role.EDITOR or method in VIEWER_METHODS:
        return
    raise AccessDenied(
        f"principal {principal.name!r} (role {principal.role.value}) may not call {method}",
        reason="ROLE_FORBIDS_METHOD",
        principal=principal.name,
    )


class Gate:
    """Authentication, then the principal's rate limit, role and calls in flight, in that order.

    Before anyone is known, the only limit is the caller's peer's budget of
    failed authentications.
    """

    def __init__(
        self,
        authenticator: Authenticator | None = None,
        limiter: RateLimiter | None = None,
        watchers: WatcherCounts | None = None,
        calls: CallCounts | None = None,
        failures: FailureBudgets | None = None,
    ) -> None:
        self.authenticator = authenticator or Authenticator()
        self.limiter = limiter or RateLimiter()
        self.watchers = watchers or WatcherCounts()
        self.calls = calls or CallCounts()
        self.failures = FailureBudgets() if failures is None else failures

    @property
    def authenticates(self) -> bool:
        """Whether callers must prove who they are (else all are anonymous)."""
        return self.authenticator.enabled

    def identify(
        self, metadata: Mapping[str, str], auth_context: AuthContext, peer: Callable[[], str]
    ) -> Principal:
        """The caller's principal; raises Unauthenticated, or TooManyFailures once its peer failed too often.

        ``peer`` gives gRPC's name of the caller's peer; it is asked only when
        authentication fails.
        """
        try:
            return self.authenticator.authenticate(metadata, auth_context)
        except Unauthenticated:
            self.failures.failed(peer_key(peer()))
            raise

    def admit(self, principal: Principal, method: str) -> None:
        """Raises unless ``principal`` may call ``method`` now; then the call is in flight until `release`."""
        self.limiter.take(principal)
        require_role(principal, method)
        if method not in HELD_METHODS:
            self.calls.enter(principal)  # last: nothing raises once the call is counted

    def release(self, principal: Principal, method: str) -> None:
        """Ends a call `admit` let in."""
        if method not in HELD_METHODS:
            self.calls.leave(principal)


OPEN_GATE = Gate()  # no authentication, no limits: the default for a local sidecar
