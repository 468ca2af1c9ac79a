"""`connfacade.server.testing.serve`: the one way tests and benchmarks run `connfacade serve`."""

from __future__ import annotations

import pytest

from connfacade.server.testing import serve


async def test_the_banner_gives_every_address_asked_for():
    """Each banner line asked for is parsed: gRPC, health, metrics and the emulator, on free ports."""
    async with await serve(
        "--listen",
        "127.0.0.1:0",
        "--health-address",
        "127.0.0.1:0",
        expect=("grpc", "health", "metrics", "emulator"),
    ) as served:
        assert served.address.startswith("127.0.0.1:")
        assert served.health_address.startswith("127.0.0.1:")
        assert served.metrics_url.startswith("http://127.0.0.1:")
        assert served.metrics_url.endswith("/metrics")
        assert served.emulator_url.startswith("http://127.0.0.1:")
        assert served.announced("grpc") == [served.address]


async def test_a_process_that_refuses_to_start_returns_and_its_address_quotes_its_log():
    """serve() returns once the process has closed its output; asking its address names why it stopped."""
    served = await serve("--listen", "0.0.0.0:0")  # no authentication: refused before binding
    ended = await served.exited()
    assert ended.code == 1
    with pytest.raises(LookupError, match=r"refusing to listen on 0\.0\.0\.0:0 without authentication"):
        _ = served.address
