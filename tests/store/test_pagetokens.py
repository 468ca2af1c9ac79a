"""Page tokens for listings from memory: opaque, bound to their filter, unforgeable."""

from __future__ import annotations

import pytest

from connfacade.server.domain import InvalidArgument
from connfacade.server.store._pagetokens import PageTokens


def test_a_token_resumes_after_its_item():
    """A token issued after sequence 7 resumes after 7 for the same filter."""
    tokens = PageTokens()
    assert tokens.resume_after(tokens.issue(7, "name=a"), "name=a") == 7


def test_empty_token_starts_at_the_beginning():
    """No token means the first page."""
    assert PageTokens().resume_after("", "x") == 0


def test_a_token_for_another_filter_is_rejected():
    """A token is bound to the filter it was issued for."""
    tokens = PageTokens()
    with pytest.raises(InvalidArgument) as caught:
        tokens.resume_after(tokens.issue(7, "name=a"), "name=b")
    assert caught.value.violations[0].field == "next_token"


@pytest.mark.parametrize("forged", ["garbage", "a.b", "eyJzIjo5OTl9.AAAA", "...", "eyJzIjoxfQ"])
def test_forged_tokens_are_rejected(forged):
    """Anything the server did not issue is INVALID_ARGUMENT on next_token."""
    with pytest.raises(InvalidArgument) as caught:
        PageTokens().resume_after(forged, "")
    assert caught.value.violations[0].field == "next_token"


def test_tokens_of_another_process_are_rejected():
    """A token signed with another secret is not accepted."""
    with pytest.raises(InvalidArgument):
        PageTokens(b"one" * 8).resume_after(PageTokens(b"two" * 8).issue(1, ""), "")
