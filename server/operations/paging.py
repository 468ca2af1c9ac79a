"""Following AWS page tokens through the empty pages AWS sometimes returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from connfacade.server.domain import UpstreamInternal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connfacade.server.domain import Page

T = TypeVar("T")

# App Runner is known to answer an empty page with a NextToken; a caller should
# never see one, but a broken upstream must not keep us looping for ever: this
# many empty pages after the first, in a row, end the walk.
MAX_EMPTY_HOPS = 50
# One full listing needs far fewer pages at AWS's quotas (250 CodeStar
# connections per account, 20 a page); past this many it is not going to end.
MAX_PAGES = 1000
ENDLESS = "EndlessListing"  # the reason (ErrorInfo) of a listing cut off by a bound


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

    A token names a position in the listing, so an empty page may hand back
    the very token it was asked with (no progress yet, ask again): that is
    followed. Any other token AWS already gave would repeat items for ever,
    an upstream failure. Bounds on empty pages in a row and on pages in all
    end a listing that keeps going without either.
    """
    found: list[T] = []
    seen: set[str] = set()
    token, empty_run = "", 0
    for _ in range(MAX_PAGES):
        page = await fetch(token)
        found.extend(page.items)
        if not page.next_token:
            return found
        empty_run = 0 if page.items else empty_run + 1
        if empty_run > MAX_EMPTY_HOPS:
            raise UpstreamInternal(
                f"AWS answered {empty_run} empty pages in a row; the listing does not end", aws_code=ENDLESS
            )
        same_position = not page.items and page.next_token == token
        if page.next_token in seen and not same_position:
            raise UpstreamInternal(
                "AWS repeated a page token; the listing does not end", aws_code="RepeatedToken"
            )
        seen.add(page.next_token)
        token = page.next_token
    raise UpstreamInternal(f"AWS's listing did not end within {MAX_PAGES} pages", aws_code=ENDLESS)
