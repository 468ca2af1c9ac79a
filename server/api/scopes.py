"""Scope checks of restricted principals: refused before anything is looked up, lists filtered.

A principal restricted to some name or ARN prefixes must learn nothing about
the rest: a resource outside its scope is PERMISSION_DENIED whether or not it
exists, and listings and watches simply leave it out. A CodeStar ARN does not
contain its resource's name, so for a principal with name scopes it is looked
up first; an ARN that cannot be resolved is refused the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from connfacade.server.domain import AccessDenied
from connfacade.server.security import caller

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from connfacade.server.security import Principal

T = TypeVar("T")


def _denied(principal: Principal, what: str) -> AccessDenied:
    return AccessDenied(
        f"{what} is outside the scope of principal {principal.name!r}",
        reason="OUT_OF_SCOPE",
        principal=principal.name,
    )


def apprunner_name_of(arn: str) -> str | None:
    """The name inside an App Runner connection ARN (``...:connection/NAME/ID``)."""
    resource = arn.rpartition(":")[2]
    parts = resource.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "connection" else None  # noqa: PLR2004 - kind/name/id


def is_host_arn(arn: str) -> bool:
    """Whether a CodeStar ARN names a host (``...:host/NAME-ID``) rather than a connection."""
    return arn.rpartition(":")[2].startswith("host/")


class ScopeGuard:
    """Checks the current caller's scope for one service; ``name_of`` resolves an ARN's name."""

    def __init__(self, name_of: Callable[[str], Awaitable[str | None]]) -> None:
        self._name_of = name_of

    @property
    def restricted(self) -> bool:
        """Whether the current caller sees only part of the resources."""
        return caller().restricted

    def name(self, name: str) -> None:
        """A resource named in the request (e.g. a create): refused when out of scope."""
        principal = caller()
        if not principal.may_access(name=name):
            raise _denied(principal, f"name {name!r}")

    async def arn(self, arn: str) -> None:
        """A resource given by ARN: refused when out of scope, or when its name cannot be found."""
        principal = caller()
        if principal.may_access(arn=arn):
            return
        if principal.name_scoped:
            name = await self._name_of(arn)
            if name is not None and principal.may_access(name=name, arn=arn):
                return
        raise _denied(principal, f"resource {arn!r}")

    async def resource(self, *, arn: str, name: str) -> None:
        """A resource given by ARN or name (whichever the request set)."""
        if arn:
            await self.arn(arn)
        else:
            self.name(name)

    def visible(self, items: Sequence[T], key: Callable[[T], tuple[str, str]]) -> list[T]:
        """The items the current caller may see; ``key`` gives an item's (name, ARN)."""
        principal = caller()
        return [item for item in items if principal.may_access(name=key(item)[0], arn=key(item)[1])]
