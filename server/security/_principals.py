"""Who may call: principals, their roles and scopes, read from a TOML file.

A principal is found by a bearer token (stored only as its SHA-256) or by the
subject of a verified client certificate. Tokens are random secrets of 32 bytes
(`connfacade auth new-token`), so an unsalted hash is enough: nothing can be
guessed from it, and it can be compared in constant time.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import arn_key

if TYPE_CHECKING:
    from pathlib import Path

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KEYS = frozenset(
    {
        "name",
        "role",
        "token_sha256",
        "tls_subject",
        "scopes",
        "rate_limit",
        "rate_burst",
        "max_calls",
        "max_watchers",
    }
)


class Role(enum.StrEnum):
    """What a principal may do: viewers read and watch, editors also change."""

    VIEWER = "viewer"
    EDITOR = "editor"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    ``scopes`` restrict which resources it may see or change: an entry that
    starts with ``arn:`` is an ARN prefix, any other a name prefix; none means
    every resource. Limits left ``None`` take the server's defaults.
    """

    name: str
    role: Role
    scopes: tuple[str, ...] = ()
    rate_limit: float | None = None
    rate_burst: int | None = None
    max_calls: int | None = None
    max_watchers: int | None = None

    @property
    def restricted(self) -> bool:
        """Whether only some resources are in its scope."""
        return bool(self.scopes)

    def may_access(self, *, name: str = "", arn: str = "") -> bool:
        """Whether a resource with this name and/or ARN is in scope."""
        if not self.scopes:
            return True
        key = arn_key(arn)  # either spelling of a CodeStar ARN matches either spelling of a scope
        for scope in self.scopes:
            if scope.startswith("arn:"):
                if arn and key.startswith(arn_key(scope)):
                    return True
            elif name and name.startswith(scope):
                return True
        return False

    @property
    def name_scoped(self) -> bool:
        """Whether some scope is a name prefix (an ARN alone may then need its name looked up)."""
        return any(not s.startswith("arn:") for s in self.scopes)


# Without authentication every caller is this one: it may do everything.
ANONYMOUS = Principal(name="anonymous", role=Role.EDITOR)

# Who the current call is from: an ambient fact of the call, like its request id.
# A grpc.aio handler runs in a task of its own, so what one call binds is its own.
_caller: ContextVar[Principal] = ContextVar("connfacade_principal", default=ANONYMOUS)


def caller() -> Principal:
    """The current call's principal (anonymous outside a call or without authentication)."""
    return _caller.get()


def bind_caller(principal: Principal) -> None:
    """Makes ``principal`` the current call's: the RPC boundary does, once authentication found it."""
    _caller.set(principal)


def hash_token(token: str) -> str:
    """The hex SHA-256 a principals file stores for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


class PrincipalsFileError(ValueError):
    """The principals file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class _TokenEntry:
    digest: bytes
    principal: Principal


class Directory:
    """The principals of one file, found by token or certificate subject."""

    def __init__(self, tokens: list[_TokenEntry], subjects: dict[str, Principal]) -> None:
        self._tokens = tokens
        self._subjects = subjects

    @property
    def principals(self) -> list[Principal]:
        """Every principal, each once."""
        seen = {t.principal.name: t.principal for t in self._tokens}
        seen.update({p.name: p for p in self._subjects.values()})
        return list(seen.values())

    def by_token(self, token: str) -> Principal | None:
        """The principal holding ``token``.

        Every stored digest is compared, in constant time, whatever matched:
        the time taken says nothing about which digest was close.
        """
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for entry in self._tokens:
            if hmac.compare_digest(entry.digest, digest):
                found = entry.principal
        return found

    def by_subject(self, subject: str) -> Principal | None:
        """The principal whose client certificate has this subject (e.g. ``CN=deployer,O=Example``)."""
        return self._subjects.get(subject)


def _principal(index: int, raw: dict[str, Any]) -> tuple[Principal, str | None, str | None]:
    where = f"principals[{index}]"
    unknown = set(raw) - _KEYS
    if unknown:
        raise PrincipalsFileError(f"{where}: unknown keys {sorted(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PrincipalsFileError(f"{where}.name: required, a non-empty string")
    try:
        role = Role(raw.get("role", ""))
    except ValueError:
        raise PrincipalsFileError(f"{where}.role: must be one of {[r.value for r in Role]}") from None
    token, subject = raw.get("token_sha256"), raw.get("tls_subject")
    if token is None and subject is None:
        raise PrincipalsFileError(f"{where}: needs token_sha256 or tls_subject (or both)")
    if token is not None and (not isinstance(token, str) or not _SHA256_HEX.fullmatch(token)):
        raise PrincipalsFileError(
            f"{where}.token_sha256: 64 lowercase hex digits (`connfacade auth hash-token`), not the token"
        )
    if subject is not None and (not isinstance(subject, str) or not subject.strip()):
        raise PrincipalsFileError(f"{where}.tls_subject: a non-empty string like 'CN=deployer,O=Example'")
    scopes = raw.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        raise PrincipalsFileError(f"{where}.scopes: a list of non-empty name or ARN prefixes")
    limits: dict[str, Any] = {}
    for key, kind in (
        ("rate_limit", (int, float)),
        ("rate_burst", int),
        ("max_calls", int),
        ("max_watchers", int),
    ):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind) or value < 0):
            raise PrincipalsFileError(f"{where}.{key}: a number >= 0")
        limits[key] = value
    principal = Principal(name=name.strip(), role=role, scopes=tuple(scopes), **limits)
    return principal, token, subject


def parse_principals(text: str) -> Directory:
    """A directory from the TOML text of a principals file; raises PrincipalsFileError."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PrincipalsFileError(f"not valid TOML: {err}") from None
    unknown = set(document) - {"principals"}
    if unknown:
        raise PrincipalsFileError(f"unknown top-level keys {sorted(unknown)}; expected [[principals]]")
    entries = document.get("principals", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PrincipalsFileError("principals: an array of tables ([[principals]])")
    tokens: list[_TokenEntry] = []
    subjects: dict[str, Principal] = {}
    names: set[str] = set()
    digests: set[str] = set()
    for index, raw in enumerate(entries):
        principal, token, subject = _principal(index, raw)
        if principal.name in names:
            raise PrincipalsFileError(f"principals[{index}].name: {principal.name!r} appears twice")
        names.add(principal.name)
        if token is not None:
            if token in digests:
                raise PrincipalsFileError(f"principals[{index}].token_sha256: the same token twice")
            digests.add(token)
            tokens.append(_TokenEntry(bytes.fromhex(token), principal))
        if subject is not None:
            if subject in subjects:
                raise PrincipalsFileError(f"principals[{index}].tls_subject: {subject!r} appears twice")
            subjects[subject] = principal
    return Directory(tokens, subjects)


def load_principals(path: Path) -> Directory:
    """The principals file at ``path``; raises PrincipalsFileError (or OSError if unreadable)."""
    try:
        return parse_principals(path.read_text(encoding="utf-8"))
    except PrincipalsFileError as err:
        raise PrincipalsFileError(f"{path}: {err}") from None
