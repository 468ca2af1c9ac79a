"""Walking AWS listings: through empty pages to the end, never in circles."""

from __future__ import annotations

import pytest

from connfacade.server.domain import Page, UpstreamInternal
from connfacade.server.operations.paging import all_items


def pages(*answers):
    """A listing that answers these (items, next token) pages in turn, keyed by the token asked for."""
    by_token = {token: Page(tuple(items), nxt) for token, items, nxt in answers}

    async def fetch(token):
        return by_token[token]

    return fetch


async def test_every_item_across_pages_and_through_an_empty_page():
    """Items of all pages, in order, including after a page that was empty but had a token."""
    fetch = pages(("", ["a", "b"], "t1"), ("t1", [], "t2"), ("t2", ["c"], ""))
    assert await all_items(fetch) == ["a", "b", "c"]


async def test_a_repeated_token_is_an_upstream_failure_not_a_loop():
    """AWS handing back a token it already gave ends the listing with UNAVAILABLE-class error."""
    fetch = pages(("", ["a"], "t1"), ("t1", ["b"], "t1"))
    with pytest.raises(UpstreamInternal):
        await all_items(fetch)
