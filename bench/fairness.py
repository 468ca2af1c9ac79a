"""One principal floods the server: what another principal's calls see, with and without the limits.

    ./scripts/bench fairness    # or: .venv/bin/python bench/fairness.py [--flood 3000] [--aws-latency-ms 100]

`connfacade serve` runs in a process of its own (authentication on, two
principals, the `aws` backend pointed at the emulator in a third process). A
flooder process keeps ``--flood`` consistent ListConnections of one principal
in flight over ``--flood-channels`` HTTP/2 connections (default one: an
ordinary client with one channel), calling again at once after every answer,
refusals included (a hostile caller; ``--polite`` makes it wait a second after
a refusal, as a client honouring RetryInfo would). Meanwhile this process makes
``--calls`` ListConnections, one at a time with a 1 s deadline, as the other
principal. Each scenario is one `--max-calls-per-principal` (``--limits``,
default the default limit) and one `--max-streams-per-connection`
(``--streams``, default no limit and the default limit); the report gives the
other principal's p50, p90, p99, worst call and deadline misses per scenario,
and the first against the last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
from _load import percentile, write_results
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.config import DEFAULT_MAX_CALLS, DEFAULT_MAX_STREAMS
from connfacade.server.security import hash_token
from connfacade.server.testing import serve

HERE = Path(__file__).resolve().parent
AWS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
TOKENS = {"flooder": "bench-flooder-token-0123456789", "other": "bench-other-token-0123456789"}
DEADLINE = 1.0


def metadata(principal: str, *, consistent: bool = False) -> tuple[tuple[str, str], ...]:
    pairs = (("authorization", f"Bearer {TOKENS[principal]}"),)
    return (*pairs, ("x-connfacade-consistent-read", "true")) if consistent else pairs


async def flood(target: str, workers: int, seconds: float, *, channels: int, polite: bool) -> dict[str, int]:
    """Keeps ``workers`` consistent reads in flight over ``channels`` connections; codes counted.

    A polite flooder waits a second after each RESOURCE_EXHAUSTED, as a client honouring RetryInfo would.
    """
    codes: dict[str, int] = {}
    stop_at = time.monotonic() + seconds
    opened = [
        # A subchannel pool of its own: each channel is an HTTP/2 connection of its own.
        grpc.aio.insecure_channel(target, options=(("grpc.use_local_subchannel_pool", 1),))
        for _ in range(channels)
    ]

    async def worker(stub: pb_grpc.ConnectionServiceStub) -> None:
        while time.monotonic() < stop_at:
            try:
                await stub.ListConnections(
                    pb.ListConnectionsRequest(), metadata=metadata("flooder", consistent=True), timeout=10
                )
                code = "OK"
            except grpc.aio.AioRpcError as err:
                code = err.code().name
            codes[code] = codes.get(code, 0) + 1
            if polite and code == "RESOURCE_EXHAUSTED":
                await asyncio.sleep(1.0)

    stubs = [pb_grpc.ConnectionServiceStub(c) for c in opened]
    await asyncio.gather(*(worker(stubs[i % len(stubs)]) for i in range(workers)))
    for channel in opened:
        await channel.close()
    return codes


async def emulate() -> None:
    """Runs the emulator until killed, printing its URL."""
    from connfacade.server.emulator import Emulator  # noqa: PLC0415 - only this process needs it

    async with Emulator(port=0) as emulator:
        print(emulator.url, flush=True)
        await asyncio.Event().wait()


async def serving(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.01)


async def scenario(
    emulator_url: str, folder: Path, limits: tuple[int, int], args: argparse.Namespace, env: dict[str, str]
) -> dict[str, object]:
    limit, streams = limits
    socket = folder / f"grpc-{limit}-{streams}.sock"
    server = await serve(
        *("--backend", "aws", "--aws-endpoint-url", emulator_url),
        *("--listen", f"unix:{socket}", "--health-address", "127.0.0.1:0", "--metrics-address", "off"),
        *("--audit-stdout", "off", "--log-level", "error"),
        *("--principals-file", str(folder / "principals.toml"), "--max-calls-per-principal", str(limit)),
        *("--max-streams-per-connection", str(streams)),
        env=AWS_ENV,
        expect=("health",),
    )
    flooder = None
    try:
        await serving(server.health_address)
        target = f"unix:{socket}"
        flooder = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--flood-target",
            target,
            "--flood",
            str(args.flood),
            "--seconds",
            str(args.seconds),
            "--flood-channels",
            str(args.flood_channels),
            *(["--polite"] if args.polite else []),
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        await asyncio.sleep(args.seconds / 4)  # the flood builds up
        latencies, misses = [], 0
        async with grpc.aio.insecure_channel(target) as channel:
            stub = pb_grpc.ConnectionServiceStub(channel)
            for _ in range(args.calls):
                began = time.perf_counter()
                try:
                    await stub.ListConnections(
                        pb.ListConnectionsRequest(), metadata=metadata("other"), timeout=DEADLINE
                    )
                except grpc.aio.AioRpcError as err:
                    if err.code() is not grpc.StatusCode.DEADLINE_EXCEEDED:
                        raise
                    misses += 1
                latencies.append(time.perf_counter() - began)
        out, _ = await flooder.communicate()
        codes = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        if flooder is not None and flooder.returncode is None:
            flooder.kill()
            await flooder.wait()
        await server.stop(grace=15)
    latencies.sort()
    return {
        "max_calls_per_principal": limit,
        "max_streams_per_connection": streams,
        "other_p50_ms": statistics.median(latencies) * 1000,
        "other_p90_ms": percentile(latencies, 0.9) * 1000,
        "other_p99_ms": percentile(latencies, 0.99) * 1000,
        "other_worst_ms": latencies[-1] * 1000,
        "other_deadline_misses": misses,
        "other_calls": len(latencies),
        "flooder_answers": codes,
    }


def name(result: dict[str, object]) -> str:
    """A scenario's limits, as the report prints them (0: off)."""
    calls, streams = result["max_calls_per_principal"], result["max_streams_per_connection"]
    return f"calls {calls or 'off':>4} streams {streams or 'off':>4}"


async def main() -> int:
    parser = argparse.ArgumentParser(description="a flooding principal against another principal's calls")
    parser.add_argument("--flood", type=int, default=3000, help="the flooder's calls in flight")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the flood lasts")
    parser.add_argument("--calls", type=int, default=20, help="the other principal's calls, one at a time")
    parser.add_argument("--polite", action="store_true", help="the flooder backs off after a refusal")
    parser.add_argument("--flood-channels", type=int, default=1, help="HTTP/2 connections the flood uses")
    numbers = lambda text: [int(n) for n in text.split(",")]  # noqa: E731 - an argparse type
    parser.add_argument(
        "--limits",
        type=numbers,
        default=[DEFAULT_MAX_CALLS],
        help=f"--max-calls-per-principal per scenario (default: {DEFAULT_MAX_CALLS})",
    )
    parser.add_argument(
        "--streams",
        type=numbers,
        default=[0, DEFAULT_MAX_STREAMS],
        help=f"--max-streams-per-connection per scenario (default: 0, {DEFAULT_MAX_STREAMS}); "
        "scenarios are every limit with every streams value, the first the baseline",
    )
    parser.add_argument(
        "--aws-latency-ms", type=int, default=0, help="how long AWS takes per ListConnections (default 0)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--flood-target", help=argparse.SUPPRESS)  # the flooder process
    parser.add_argument("--emulate", action="store_true", help=argparse.SUPPRESS)  # the emulator process
    args = parser.parse_args()
    if args.emulate:
        await emulate()
        return 0
    if args.flood_target:
        codes = await flood(
            args.flood_target, args.flood, args.seconds, channels=args.flood_channels, polite=args.polite
        )
        print(json.dumps(codes))
        return 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | AWS_ENV
    results = []
    emulator = await serve(
        __file__,
        "--emulate",
        command=(sys.executable,),
        banner={"emulator": re.compile(r"(http://\S+)")},
        expect=("emulator",),
    )
    url = emulator.emulator_url
    try:
        if args.aws_latency_ms:
            from connfacade.server.emulator import EmulatorControl  # noqa: PLC0415

            async with EmulatorControl(url) as control:
                await control.inject_fault(
                    operation="ListConnections", kind="latency", latency_ms=args.aws_latency_ms
                )
        with tempfile.TemporaryDirectory(prefix="connfacade-fairness-") as tmp:
            folder = Path(tmp)
            (folder / "principals.toml").write_text(
                "".join(
                    f'[[principals]]\nname = "{name}"\nrole = "viewer"\n'
                    f'token_sha256 = "{hash_token(token)}"\n'
                    for name, token in TOKENS.items()
                )
            )
            for limits in itertools.product(args.limits, args.streams):
                result = await scenario(url.rstrip("/"), folder, limits, args, env)
                results.append(result)
                print(
                    f"{name(result)}: other principal p50 {result['other_p50_ms']:8.1f} ms, "
                    f"p90 {result['other_p90_ms']:8.1f} ms, p99 {result['other_p99_ms']:8.1f} ms, "
                    f"worst {result['other_worst_ms']:8.1f} ms, "
                    f"{result['other_deadline_misses']}/{result['other_calls']} past the deadline; "
                    f"flooder {result['flooder_answers']}"
                )
    finally:
        await emulator.stop(grace=15)
    off, on = results[0], results[-1]
    ratios = {
        "other_p50_baseline_over_last": off["other_p50_ms"] / on["other_p50_ms"],  # type: ignore[operator]
        "other_misses_baseline_minus_last": off["other_deadline_misses"] - on["other_deadline_misses"],  # type: ignore[operator]
    }
    print(
        f"\n{name(on)} against {name(off)}: "
        f"the other principal's p50 x{1 / ratios['other_p50_baseline_over_last']:.2f}, deadline misses "
        f"{on['other_deadline_misses']} instead of {off['other_deadline_misses']} of {args.calls}"
    )
    write_results(
        args.out,
        "fairness",
        {
            "flood": args.flood,
            "flood_channels": args.flood_channels,
            "polite": args.polite,
            "aws_latency_ms": args.aws_latency_ms,
            "scenarios": results,
            "ratios": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
