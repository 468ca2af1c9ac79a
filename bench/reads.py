"""Read-path benchmark: cached reads against the gRPC ceiling, uncached against aiobotocore.

    ./scripts/bench reads            # or: .venv/bin/python bench/reads.py [--seconds 5]

In one run, on this machine, over the same transport and concurrency:

1. a bare grpc.aio echo server answering a serialized ListConnections page of 20
   connections (the Python gRPC ceiling) against cached GetConnection and
   ListConnections through the facade, at 64 and 256 calls in flight;
2. direct aiobotocore ``list_connections`` against the emulator against an
   uncached (consistent-read) facade ListConnections, one call at a time.

Servers run in their own processes (the facade with its embedded emulator);
the load comes from this one. Results go to stdout and to a JSON file in
bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from _load import Result, closed_loop, sequential, write_results
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.testing import Served, serve

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

HERE = Path(__file__).resolve().parent
CONNECTIONS = 20
CONSISTENT = (("x-connfacade-consistent-read", "true"),)


def channels(address: str, n: int) -> list[grpc.aio.Channel]:
    # Separate HTTP/2 connections, as many callers would have; the same for every scenario.
    return [
        grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(n)
    ]


def round_robin(calls: list[Callable[[], Awaitable[object]]]) -> Callable[[], Awaitable[object]]:
    state = {"i": 0}

    def next_call() -> Awaitable[object]:
        state["i"] = (state["i"] + 1) % len(calls)
        return calls[state["i"]]()

    return next_call


async def measure_cached(
    facade_addr: str, echo_addr: str, arn: str, concurrency: int, seconds: float
) -> tuple[Result, Result, Result]:
    n = max(1, concurrency // 64)
    echo_channels, facade_channels = channels(echo_addr, n), channels(facade_addr, n)
    try:
        echo_calls = [
            ch.unary_unary(
                "/bench.Echo/Echo",
                request_serializer=lambda b: b,
                response_deserializer=pb.ListConnectionsResponse.FromString,
            )
            for ch in echo_channels
        ]
        stubs = [pb_grpc.ConnectionServiceStub(ch) for ch in facade_channels]
        get_request = pb.GetConnectionRequest(connection_arn=arn)
        list_request = pb.ListConnectionsRequest()
        echo = await closed_loop(
            "echo (ceiling)",
            round_robin([lambda c=c: c(b"") for c in echo_calls]),
            concurrency=concurrency,
            seconds=seconds,
        )
        get = await closed_loop(
            "facade GetConnection (cached)",
            round_robin([lambda s=s: s.GetConnection(get_request) for s in stubs]),
            concurrency=concurrency,
            seconds=seconds,
        )
        lst = await closed_loop(
            f"facade ListConnections x{CONNECTIONS} (cached)",
            round_robin([lambda s=s: s.ListConnections(list_request) for s in stubs]),
            concurrency=concurrency,
            seconds=seconds,
        )
        return echo, get, lst
    finally:
        for ch in echo_channels + facade_channels:
            await ch.close()


def median_result(results: list[Result]) -> Result:
    """The scenario's median over rounds (throughput, p50 and p99 each by median)."""
    first = results[0]
    return Result(
        first.name,
        first.concurrency,
        sum(r.calls for r in results),
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        statistics.median(r.throughput for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


async def measure_uncached(
    facade_addr: str, emulator_url: str, arn: str, count: int
) -> tuple[Result, Result, Result]:
    session = get_session()
    config = AioConfig(region_name="us-east-1", retries={"max_attempts": 1})
    async with (
        session.create_client(
            "apprunner",
            endpoint_url=emulator_url,
            config=config,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ) as client,
        grpc.aio.insecure_channel(facade_addr) as channel,
    ):
        stub = pb_grpc.ConnectionServiceStub(channel)
        request = pb.ListConnectionsRequest()
        direct = await sequential(
            "aiobotocore list_connections (direct)", client.list_connections, count=count
        )
        facade = await sequential(
            "facade ListConnections (uncached)",
            lambda: stub.ListConnections(request, metadata=CONSISTENT),
            count=count,
        )
        # What the gRPC hop alone costs a lone caller: a cached read does no AWS work.
        hop = await sequential(
            "facade GetConnection (cached, the hop)",
            lambda: stub.GetConnection(pb.GetConnectionRequest(connection_arn=arn)),
            count=count,
        )
    return direct, facade, hop


async def main() -> int:
    parser = argparse.ArgumentParser(description="connfacade read-path benchmark")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per scenario")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating echo/facade rounds per concurrency"
    )
    parser.add_argument("--sequential-calls", type=int, default=500, help="calls per uncached scenario")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    facade = await serve(
        *("--listen", "127.0.0.1:0", "--metrics-address", "off", "--log-level", "warning"),
        expect=("grpc", "emulator"),
        timeout=60,
    )
    echo: Served | None = None
    try:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.ConnectionServiceStub(channel)
            created = [
                (
                    await stub.CreateConnection(
                        pb.CreateConnectionRequest(
                            connection_name=f"bench-connection-{i:02d}", provider_type=pb.PROVIDER_TYPE_GITHUB
                        )
                    )
                ).connection
                for i in range(CONNECTIONS)
            ]
            page = await stub.ListConnections(pb.ListConnectionsRequest())
        if len(page.connection_summary_list) != CONNECTIONS:
            raise RuntimeError(
                f"expected {CONNECTIONS} connections, listed {len(page.connection_summary_list)}"
            )
        with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as payload:
            payload.write(page.SerializeToString())
        echo = await serve(
            str(HERE / "echo_server.py"),
            payload.name,
            "127.0.0.1:0",
            command=(sys.executable,),
            banner={"grpc": re.compile(r"listening on (\S+)")},
            timeout=60,
        )

        results: list[Result] = []
        ratios: dict[str, float] = {}
        print(
            f"payload: ListConnectionsResponse of {CONNECTIONS} connections, "
            f"{len(page.SerializeToString())} bytes"
        )
        # Echo and facade alternate over several rounds and the medians are
        # compared: on a shared machine one baseline reading is not a fair ceiling.
        for concurrency in (64, 256):
            rounds = [
                await measure_cached(
                    facade.address,
                    echo.address,
                    created[0].connection_arn,
                    concurrency,
                    args.seconds / args.rounds,
                )
                for _ in range(args.rounds)
            ]
            e, g, lst = (median_result([r[i] for r in rounds]) for i in range(3))
            for r in (e, g, lst):
                print(r.row())
            results += [e, g, lst]
            ratios[f"cached_get_vs_echo_c{concurrency}"] = g.throughput / e.throughput
            ratios[f"cached_list_vs_echo_c{concurrency}"] = lst.throughput / e.throughput
        direct, uncached, hop = await measure_uncached(
            facade.address, facade.emulator_url, created[0].connection_arn, args.sequential_calls
        )
        for r in (direct, uncached, hop):
            print(r.row())
        results += [direct, uncached, hop]
        ratios["uncached_added_p50_ms"] = uncached.p50_ms - direct.p50_ms
        ratios["grpc_hop_p50_ms"] = hop.p50_ms
    finally:
        for served in (facade, echo):
            if served is not None:
                await served.stop(grace=15)

    print("\nratios (targets: cached >= 0.8 of echo; uncached adds <= 1 ms at p50)")
    for key, value in ratios.items():
        print(f"  {key:<32} {value:6.3f}")
    write_results(
        args.out,
        "reads",
        {
            "transport": "tcp loopback",
            "seconds_per_scenario": args.seconds,
            "rounds": args.rounds,
            "results": [r.as_dict() for r in results],
            "ratios": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
