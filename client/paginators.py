"""Iterate over every item of a List RPC, following ``next_token`` across pages.

botocore ships no paginators for these services; these follow the token until
the server returns an empty one, step over empty pages that still carry a
token, and stop with :class:`~connfacade.client.errors.PaginationError` when the
server hands back a token it already gave (which would otherwise loop forever).

The clients build them: ``client.paginate_connections(...)`` and
``client.paginate_hosts(...)``. Iterating a paginator yields items; ``pages()``
yields whole responses. Each iteration starts a fresh listing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from connfacade.client.errors import PaginationError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

__all__ = ["AsyncPaginator", "Paginator"]


class _Page(Protocol):
    @property
    def next_token(self) -> str: ...


_PageT = TypeVar("_PageT", bound=_Page)
_ItemT = TypeVar("_ItemT")


class _TokenGuard:
    """Remembers the tokens of one listing and refuses one it has seen before."""

    def __init__(self, rpc_name: str) -> None:
        self._rpc_name = rpc_name
        self._seen: set[str] = set()

    def next(self, token: str) -> str:
        if token in self._seen:
            raise PaginationError(
                f"{self._rpc_name} returned the page token {token!r} a second time; "
                "stopping instead of looping forever"
            )
        self._seen.add(token)
        return token


class AsyncPaginator(Generic[_PageT, _ItemT]):
    """``async for item in paginator`` over every page of a List RPC; ``paginator.pages()`` for pages."""

    def __init__(
        self,
        rpc_name: str,
        fetch: Callable[[str], Awaitable[_PageT]],
        items: Callable[[_PageT], Sequence[_ItemT]],
    ) -> None:
        self._rpc_name = rpc_name
        self._fetch = fetch
        self._items = items

    async def pages(self) -> AsyncIterator[_PageT]:
        """Every page, empty ones included, until the server returns no next token."""
        guard = _TokenGuard(self._rpc_name)
        token = ""
        while True:
            page = await self._fetch(token)
            yield page
            if not page.next_token:
                return
            token = guard.next(page.next_token)

    async def _iter_items(self) -> AsyncIterator[_ItemT]:
        async for page in self.pages():
            for item in self._items(page):
                yield item

    def __aiter__(self) -> AsyncIterator[_ItemT]:
        return self._iter_items()

    async def to_list(self) -> list[_ItemT]:
        """Every item of every page, in order."""
        return [item async for item in self]


class Paginator(Generic[_PageT, _ItemT]):
    """``for item in paginator`` over every page of a List RPC; ``paginator.pages()`` for pages."""

    def __init__(
        self,
        rpc_name: str,
        fetch: Callable[[str], _PageT],
        items: Callable[[_PageT], Sequence[_ItemT]],
    ) -> None:
        self._rpc_name = rpc_name
        self._fetch = fetch
        self._items = items

    def pages(self) -> Iterator[_PageT]:
        """Every page, empty ones included, until the server returns no next token."""
        guard = _TokenGuard(self._rpc_name)
        token = ""
        while True:
            page = self._fetch(token)
            yield page
            if not page.next_token:
                return
            token = guard.next(page.next_token)

    def __iter__(self) -> Iterator[_ItemT]:
        for page in self.pages():
            yield from self._items(page)

    def to_list(self) -> list[_ItemT]:
        """Every item of every page, in order."""
        return list(self)
