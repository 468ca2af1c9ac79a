"""Walking AWS listings: through empty pages to the end, never in circles."""

from __future__ import annotations

import pytest

from connfacade.server.domain import Page, UpstreamInternal
from connfacade.server.operations.paging import ENDLESS, MAX_EMPTY_HOPS, MAX_PAGES, all_items


def pages(*answers):
    """A listing that answers these (items, next token) pages in turn, keyed by the token asked for."""
    by_token = {token: Page(tuple(items), nxt) for token, items, nxt in answers}

    async def fetch(token):
        return by_token[token]

    return fetch


class Answers:
    """A listing that answers pages in the order given, whatever the token, and remembers the asks."""

    def __init__(self, *answers):
        self.answers = [Page(tuple(items), nxt) for items, nxt in answers]
        self.asked = []

    async def __call__(self, token):
        self.asked.append(token)
        return self.answers.pop(0)


class Endless:
    """A listing that answers ``page(n)`` to its n-th call, for ever."""

    def __init__(self, page):
        self.page = page
        self.calls = 0

    async def __call__(self, _token):
        self.calls += 1
        return self.page(self.calls)


async def test_every_item_across_pages_and_through_an_empty_page():
    """Items of all pages, in order, including after a page that was empty but had a token."""
    fetch = pages(("", ["a", "b"], "t1"), ("t1", [], "t2"), ("t2", ["c"], ""))
    assert await all_items(fetch) == ["a", "b", "c"]


async def test_a_repeated_token_is_an_upstream_failure_not_a_loop():
    """AWS handing back a token it already gave ends the listing with UNAVAILABLE-class error."""
    fetch = pages(("", ["a"], "t1"), ("t1", ["b"], "t1"))
    with pytest.raises(UpstreamInternal):
        await all_items(fetch)


async def test_empty_pages_handing_back_the_token_they_were_asked_with_are_asked_again():
    """A token names a position: empty pages in a row may repeat it, and the walk follows it to the items."""
    fetch = Answers(([], "t0"), ([], "t0"), ([], "t0"), (["a", "b"], ""))
    assert await all_items(fetch) == ["a", "b"]
    assert fetch.asked == ["", "t0", "t0", "t0"]


async def test_an_earlier_token_after_items_came_is_an_upstream_failure():
    """Going back to a position already passed would list its items again: RepeatedToken."""
    fetch = Answers((["a"], "t1"), (["b"], "t2"), ([], "t1"))
    with pytest.raises(UpstreamInternal) as caught:
        await all_items(fetch)
    assert caught.value.aws_code == "RepeatedToken"


async def test_empty_pages_without_end_stop_the_walk_at_the_bound():
    """A listing that only ever answers empty pages ends with an UNAVAILABLE-class error, not a hang."""
    fetch = Endless(lambda _: Page((), "t0"))
    with pytest.raises(UpstreamInternal) as caught:
        await all_items(fetch)
    assert caught.value.aws_code == ENDLESS
    assert fetch.calls == MAX_EMPTY_HOPS + 1


async def test_a_listing_that_never_ends_stops_at_the_page_bound():
    """Ever new tokens and items, page after page, end the walk after MAX_PAGES pages."""
    fetch = Endless(lambda n: Page((n,), f"t{n}"))
    with pytest.raises(UpstreamInternal) as caught:
        await all_items(fetch)
    assert caught.value.aws_code == ENDLESS
    assert fetch.calls == MAX_PAGES
