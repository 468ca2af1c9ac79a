"""Following AWS page tokens through the empty pages AWS sometimes returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from connfacade.server.domain import UpstreamInternal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connfacade.server.domain import Page

T = TypeVar("T")

# App Runner is known to answer an empty page with a NextToken; a caller should
# never see one, but a broken upstream must not keep us looping for ever.
MAX_EMPTY_HOPS = 50


async def first_nonempty_page(fetch: Callable[[str], Awaitable[Page[T]]], token: str) -> Page[T]:
    """Fetches pages from ``token`` until one has items or there is no next token."""
    page = await fetch(token)
    hops = 0
    while not page.items and page.next_token and hops < MAX_EMPTY_HOPS:
        page = await fetch(page.next_token)
        hops += 1
    return page


async def all_items(fetch: Callable[[str], Awaitable[Page[T]]]) -> list[T]:
    """Every item of a listing, following tokens through empty pages to the end.

    A token AWS already gave means the listing would never end: that is an
    upstream failure, not a reason to loop.
    """
    found: list[T] = []
    seen: set[str] = set()
    token = ""
    while True:
        page = await fetch(token)
        found.extend(page.items)
        if not page.next_token:
            return found
        if page.next_token in seen:
            raise UpstreamInternal(
                "AWS repeated a page token; the listing does not end", aws_code="RepeatedToken"
            )
        seen.add(page.next_token)
        token = page.next_token
