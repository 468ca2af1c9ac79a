"""Who is calling: a bearer token or a verified client certificate, else UNAUTHENTICATED."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connfacade.server.domain import Unauthenticated
from connfacade.server.security._principals import ANONYMOUS, Directory, Principal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    AuthContext = Callable[[], Mapping[str, Iterable[bytes]] | None]

_BEARER = "bearer "


class Authenticator:
    """Finds the principal of a call in the principals directory.

    Without a directory authentication is off and every caller is
    `ANONYMOUS`. A bearer token, when sent, decides alone (a wrong token is
    never rescued by a certificate); otherwise the subject of the client
    certificate TLS verified does.
    """

    def __init__(self, directory: Directory | None = None) -> None:
        self.directory = directory

    @property
    def enabled(self) -> bool:
        """Whether callers must prove who they are."""
        return self.directory is not None

    def authenticate(self, metadata: Mapping[str, str], auth_context: AuthContext) -> Principal:
        """The caller's principal; raises Unauthenticated."""
        if self.directory is None:
            return ANONYMOUS
        if (header := metadata.get("authorization")) is not None:
            if not header[: len(_BEARER)].lower() == _BEARER or not header[len(_BEARER) :].strip():
                raise Unauthenticated(
                    "the authorization header must be 'Bearer <token>'", reason="BAD_HEADER"
                )
            principal = self.directory.by_token(header[len(_BEARER) :].strip())
            if principal is None:
                raise Unauthenticated("the bearer token is not valid", reason="INVALID_TOKEN")
            return principal
        # Only asked for when there is no token: reading it costs a little on every call.
        subjects = (auth_context() or {}).get("x509_subject", ())
        for raw in subjects:
            subject = raw.decode("utf-8", "replace")
            principal = self.directory.by_subject(subject)
            if principal is None:
                raise Unauthenticated(
                    f"the client certificate subject {subject!r} is not a known principal",
                    reason="UNKNOWN_CERTIFICATE_SUBJECT",
                )
            return principal
        raise Unauthenticated(
            "credentials required: a bearer token (authorization metadata) or a client certificate",
            reason="MISSING_CREDENTIALS",
        )
