"""Single flight: concurrent callers share one call; consistent callers wait for a newer one."""

from __future__ import annotations

import asyncio

import pytest

from connfacade.server.store._singleflight import SingleFlight


async def test_concurrent_callers_share_one_call():
    """100 callers arriving together cause one call."""
    calls = 0
    gate = asyncio.Event()

    async def fn():
        nonlocal calls
        calls += 1
        await gate.wait()
        return calls

    flight = SingleFlight(fn)
    waiting = [asyncio.create_task(flight.do()) for _ in range(100)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [1] * 100
    assert calls == 1


async def test_failure_reaches_every_caller_and_the_next_call_retries():
    """An error is shared by the flight's callers; a later call starts afresh."""
    attempts = 0

    async def fn():
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("boom")
        return "ok"

    flight = SingleFlight(fn)
    results = await asyncio.gather(flight.do(), flight.do(), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert await flight.do() == "ok"


async def test_a_caller_needing_newer_data_does_not_join_an_older_flight():
    """not_before later than the running flight's start forces a second call."""
    now = [0.0]
    calls = []
    gate = asyncio.Event()

    async def fn():
        calls.append(now[0])
        await gate.wait()

    flight = SingleFlight(fn, clock=lambda: now[0])
    first = asyncio.create_task(flight.do())
    await asyncio.sleep(0)
    now[0] = 5.0
    second = asyncio.create_task(flight.do(not_before=5.0))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, second)
    assert len(calls) == 2
    assert flight.flights == 2


async def test_a_cancelled_caller_does_not_cancel_the_flight():
    """Others still get the result when one caller gives up."""
    gate = asyncio.Event()

    async def fn():
        await gate.wait()
        return 42

    flight = SingleFlight(fn)
    quitter = asyncio.create_task(flight.do())
    stayer = asyncio.create_task(flight.do())
    await asyncio.sleep(0)
    quitter.cancel()
    gate.set()
    assert await stayer == 42
    with pytest.raises(asyncio.CancelledError):
        await quitter
