"""Closed-loop load generation and latency statistics shared by the benchmarks."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path


@dataclass(frozen=True)
class Result:
    """One measured scenario."""

    name: str
    concurrency: int
    calls: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float

    def row(self) -> str:
        return (
            f"{self.name:<42} c={self.concurrency:<4} {self.throughput:>9.0f} rps   "
            f"p50 {self.p50_ms:>7.3f} ms   p99 {self.p99_ms:>7.3f} ms   errors {self.errors}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def closed_loop(
    name: str, call: Callable[[], Awaitable[object]], *, concurrency: int, seconds: float, warmup: float = 1.0
) -> Result:
    """``concurrency`` workers call back to back for ``seconds`` (after a warm-up)."""
    latencies: list[float] = []
    errors = 0
    measuring = False
    stop_at = 0.0

    async def worker() -> None:
        nonlocal errors
        while True:
            started = time.perf_counter()
            if measuring and started >= stop_at:
                return
            try:
                await call()
            except Exception:  # noqa: BLE001 - counted, not fatal, in a benchmark
                if measuring:
                    errors += 1
                continue
            if measuring:
                latencies.append(time.perf_counter() - started)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(warmup)
    measuring = True
    began = time.perf_counter()
    stop_at = began + seconds
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(
        name,
        concurrency,
        len(latencies),
        errors,
        elapsed,
        len(latencies) / elapsed,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
    )


async def sequential(
    name: str, call: Callable[[], Awaitable[object]], *, count: int, warmup: int = 20
) -> Result:
    """One call at a time: the latency a lone caller sees."""
    for _ in range(warmup):
        await call()
    latencies = []
    began = time.perf_counter()
    for _ in range(count):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(
        name,
        1,
        count,
        0,
        elapsed,
        count / elapsed,
        statistics.median(latencies) * 1000,
        percentile(latencies, 0.99) * 1000,
    )


def write_results(out: Path, benchmark: str, payload: dict[str, Any]) -> Path:
    """Writes ``payload`` as bench/results/<benchmark>-<time>.json, with the machine it ran on."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{benchmark}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    header = {
        "benchmark": benchmark,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "grpcio": grpc.__version__,
            "platform": platform.platform(),
        },
    }
    path.write_text(json.dumps(header | payload, indent=2))
    print(f"\nresults written to {path}")
    return path
