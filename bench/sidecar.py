"""The idle sidecar: time from start to SERVING, resident memory, time to exit on SIGTERM.

    ./scripts/bench sidecar        # or: .venv/bin/python bench/sidecar.py [--runs 3] [--idle 5]

Each run starts `connfacade serve` as the Kubernetes manifests do (the `aws`
backend, here pointed at an emulator outside the process; a Unix socket; the
health port; an audit file), polls grpc.health.v1 on the health port until
SERVING, lets it idle, reads its RSS from /proc, and times SIGTERM to exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
from _load import write_results
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connfacade.server.emulator import Emulator
from connfacade.server.testing import serve

HERE = Path(__file__).resolve().parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def serving(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.005)


async def one_run(emulator_url: str, folder: Path, idle: float) -> dict[str, float]:
    started = time.monotonic()
    served = await serve(
        *("--backend", "aws", "--aws-endpoint-url", emulator_url, "--listen", f"unix:{folder / 'grpc.sock'}"),
        *("--health-address", "127.0.0.1:0", "--audit-file", str(folder / "audit" / "audit.jsonl")),
        *("--audit-stdout", "off", "--log-level", "warning"),
        env={"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"},
        expect=("health",),
    )
    try:
        async with asyncio.timeout(30):
            await serving(served.health_address)
        to_serving = time.monotonic() - started
        await asyncio.sleep(idle)
        rss = rss_mb(served.pid)
        stopping = time.monotonic()
        ended = await served.stop(grace=30)
        return {
            "start_to_serving_ms": to_serving * 1000,
            "idle_rss_mb": rss,
            "sigterm_to_exit_ms": (time.monotonic() - stopping) * 1000,
            "exit_code": ended.code,
        }
    finally:
        await served.stop(signal.SIGKILL)


async def main() -> int:
    parser = argparse.ArgumentParser(description="idle sidecar: start-up, memory, shutdown")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading RSS")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    runs = []
    async with Emulator(port=0) as emulator:
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="connfacade-sidecar-") as tmp:
                result = await one_run(emulator.url, Path(tmp), args.idle)
            runs.append(result)
            print(
                f"run {i + 1}: start→SERVING {result['start_to_serving_ms']:.0f} ms, idle RSS "
                f"{result['idle_rss_mb']:.1f} MB, SIGTERM→exit {result['sigterm_to_exit_ms']:.0f} ms "
                f"(exit {result['exit_code']:.0f})"
            )
    summary = {
        key: statistics.median(r[key] for r in runs)
        for key in ("start_to_serving_ms", "idle_rss_mb", "sigterm_to_exit_ms")
    }
    print(
        f"median: start→SERVING {summary['start_to_serving_ms']:.0f} ms, "
        f"idle RSS {summary['idle_rss_mb']:.1f} MB, "
        f"SIGTERM→exit {summary['sigterm_to_exit_ms']:.0f} ms"
    )
    write_results(args.out, "sidecar", {"runs": runs, "median": summary})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
