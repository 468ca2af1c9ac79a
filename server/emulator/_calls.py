"""What every operation handler gets, and the paging and tagging rules they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from connfacade.server.emulator._protocol import AwsError
from connfacade.server.emulator._tokens import InvalidTokenError, Item, page

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from connfacade.server.emulator._state import EmulatorState
    from connfacade.server.emulator._tokens import PageTokens


@dataclass(frozen=True, slots=True)
class Call:
    """One validated API request: where it was signed for, and the state it acts on."""

    service: str
    operation: str
    region: str
    state: EmulatorState
    tokens: PageTokens


Handler: TypeAlias = "Callable[[Call, dict[str, Any]], dict[str, Any]]"


@dataclass(frozen=True, slots=True)
class Listing:
    """How one service pages: its default page size and how it rejects a bad token."""

    default_limit: int | None
    bad_cursor_code: str


def list_page(
    call: Call,
    listing: Listing,
    query: Mapping[str, object],
    items: Sequence[Item],
    params: Mapping[str, Any],
) -> tuple[list[Item], str | None]:
    """One page of ``items`` (in creation order) and the NextToken for the next, if any.

    ``query`` holds the filters: a token only works again with the same ones.
    A pending ``empty_pages`` request answers an empty page with a valid token,
    as App Runner really does. A token names a position, so that token is the
    one the call was given (on a first page, the start's): empty pages in a
    row repeat it.
    """
    scoped = {"operation": f"{call.service}.{call.operation}", "region": call.region, **query}
    after = 0
    token = params.get("NextToken")
    if token is not None:
        try:
            after = call.tokens.resolve(scoped, token)
        except InvalidTokenError:
            raise AwsError(listing.bad_cursor_code, "Invalid NextToken") from None
    if call.state.take_empty_page(call.service):
        return [], call.tokens.issue(scoped, after)
    limit = params.get("MaxResults") or listing.default_limit
    chosen, more = page(items, after, limit)
    return chosen, None if more is None else call.tokens.issue(scoped, more)


@dataclass(frozen=True, slots=True)
class TagRules:
    """A service's tag limit and the error it answers when a resource would exceed it."""

    limit: int
    error_code: str


def merged_tags(
    current: Mapping[str, str], tags: Sequence[Mapping[str, Any]], rules: TagRules
) -> dict[str, str]:
    """``current`` with ``tags`` added or overwritten; raises when the total exceeds the limit."""
    out = dict(current)
    for tag in tags:
        key = tag.get("Key")
        if key is None:
            raise AwsError("InvalidRequestException", "A tag must have a Key")
        out[key] = tag.get("Value") or ""
    if len(out) > rules.limit:
        raise AwsError(
            rules.error_code,
            f"A resource can have at most {rules.limit} tags; this request would leave it with {len(out)}",
        )
    return out
