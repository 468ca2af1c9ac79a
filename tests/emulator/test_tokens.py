"""NextTokens: opaque, signed, bound to the query, positions that survive deletions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from connfacade.server.emulator._tokens import InvalidTokenError, PageTokens, page


@dataclass
class _Item:
    seq: int


def test_token_round_trips_for_the_same_query() -> None:
    """A token resolves to the position it was issued for, with the same filters."""
    tokens = PageTokens()
    token = tokens.issue({"ConnectionName": None}, 7)
    assert tokens.resolve({"ConnectionName": None}, token) == 7
    assert len(token) <= 1024  # the model's NextToken max length


@pytest.mark.parametrize(
    ("query", "mangle"),
    [
        ({"f": 2}, lambda t: t),
        ({"f": 1}, lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB")),
        ({"f": 1}, lambda t: t.replace(".", "")),
        ({"f": 1}, lambda _: "bm90IGEgdG9rZW4"),
    ],
    ids=["other-filter", "bad-mac", "no-separator", "not-ours"],
)
def test_foreign_tokens_are_rejected(query, mangle) -> None:
    """Tokens used with other filters, edited or made up are rejected."""
    tokens = PageTokens()
    with pytest.raises(InvalidTokenError):
        tokens.resolve(query, mangle(tokens.issue({"f": 1}, 3)))


def test_token_of_another_emulator_is_rejected() -> None:
    """Each emulator signs with its own secret."""
    with pytest.raises(InvalidTokenError):
        PageTokens().resolve({}, PageTokens().issue({}, 1))


def test_page_continues_after_the_position() -> None:
    """A page holds the items created after the position, and where to continue when more follow."""
    items = [_Item(s) for s in (2, 4, 6, 8)]
    assert page(items, 0, 3) == (items[:3], 6)
    assert page(items, 6, 3) == (items[3:], None)
    assert page(items, 0, None) == (items, None)
    assert page(items, 3, 1) == ([items[1]], 4)
