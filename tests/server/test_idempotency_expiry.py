"""The idempotency cache's window: which remembered request ids expire, and what expiring costs."""

from __future__ import annotations

import asyncio
import uuid

from connfacade.server import callcontext
from connfacade.server.domain import Service
from connfacade.server.operations.idempotency import IdempotencyCache


class Instant(float):
    """A clock reading that counts how often it is compared with another time."""

    comparisons = 0

    @staticmethod
    def _count(result: bool) -> bool:
        Instant.comparisons += 1
        return result

    def __lt__(self, other: float) -> bool:
        return self._count(float(self) < other)

    def __le__(self, other: float) -> bool:
        return self._count(float(self) <= other)

    def __gt__(self, other: float) -> bool:
        return self._count(float(self) > other)

    def __ge__(self, other: float) -> bool:
        return self._count(float(self) >= other)


class Clock:
    """A clock the test sets by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> Instant:
        return Instant(self.now)


class Mutations:
    """Runs mutations through one cache, each under its own request id, counting those that really ran."""

    def __init__(self, cache: IdempotencyCache) -> None:
        self.cache = cache
        self.ran: list[str] = []

    async def send(self, request_id: str) -> None:
        async def call() -> str:
            self.ran.append(request_id)
            return request_id

        async def in_its_own_call() -> None:
            callcontext.begin(request_id).request_id_supplied = True
            await self.cache.run(Service.APPRUNNER, "CreateConnection", {"name": "n"}, call)

        await asyncio.create_task(in_its_own_call())


def request_ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


async def test_expiry_removes_exactly_the_ids_whose_window_has_passed():
    """Ids sent at 0..4 s with a 10 s window: at 12 s the ones from 0, 1 and 2 s are gone, the rest stay."""
    clock = Clock()
    mutations = Mutations(IdempotencyCache(window=10, clock=clock))
    ids = request_ids(5)
    for second, rid in enumerate(ids):
        clock.now = second
        await mutations.send(rid)
    clock.now = 12  # the id from 2 s expires at 12 s exactly: expired
    (newest,) = request_ids(1)
    await mutations.send(newest)  # any mutation expires what is due
    assert mutations.cache.remembered == 3  # the ids from 3 and 4 s, and the newest
    mutations.ran.clear()
    for rid in ids:
        await mutations.send(rid)
    assert mutations.ran == ids[:3]  # the expired ones run again; the others are answered from memory


async def test_expiring_looks_only_at_the_expired_ids_and_the_next_one():
    """Expiry costs O(expired), not O(remembered): 3 of 100 ids due, at most 4 expiry times compared."""
    clock = Clock()
    mutations = Mutations(IdempotencyCache(window=1000, clock=clock))
    for second, rid in enumerate(request_ids(100)):
        clock.now = second
        await mutations.send(rid)
    clock.now = 1002.5  # the ids from 0, 1 and 2 s are due
    Instant.comparisons = 0
    await mutations.send(str(uuid.uuid4()))
    assert Instant.comparisons <= 3 + 1
    assert mutations.cache.remembered == 100 - 3 + 1
