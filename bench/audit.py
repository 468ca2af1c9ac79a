"""What the audit file's fsync policy, and the write-ahead intent, cost per mutation.

    ./scripts/bench audit          # or: .venv/bin/python bench/audit.py [--pairs 150]

For each policy (no file sink, fsync never, batch, always) a facade on the
embedded emulator serves CreateConnection + DeleteConnection pairs, one at a
time and 16 at a time. Each file policy runs twice: with one record per
mutation written after AWS answered (the audit before write-ahead records,
``Auditor(write_ahead=False)``) and with an intent before AWS plus a
completion (what the server does). The report gives per-mutation p50/p99, the
cost added over no file sink, and the cost of the intent (intent+completion
less one record), all measured in the same run. The disk is whatever tmpfs or
filesystem holds the temporary folder (printed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
from _load import percentile, write_results

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server import logs
from connfacade.server.api.audit_trail import Auditor
from connfacade.server.app import EMULATOR_CREDENTIALS, start_facade
from connfacade.server.audit import FileSink, verify
from connfacade.server.backend import AioBotoBackend
from connfacade.server.emulator import Emulator
from connfacade.server.store import StoreSettings

HERE = Path(__file__).resolve().parent
POLICIES = ("none", "never", "batch", "always")
SCENARIOS = (("none", True), *((p, w) for p in POLICIES[1:] for w in (False, True)))


async def mutations(
    stub: pb_grpc.ConnectionServiceStub, prefix: str, pairs: int, concurrency: int
) -> list[float]:
    """Seconds per mutation (create and delete both count)."""
    latencies: list[float] = []
    queue = list(range(pairs))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            started = time.perf_counter()
            out = await stub.CreateConnection(
                pb.CreateConnectionRequest(
                    connection_name=f"{prefix}-{i:04d}", provider_type=pb.PROVIDER_TYPE_GITHUB
                )
            )
            latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            await stub.DeleteConnection(
                pb.DeleteConnectionRequest(connection_arn=out.connection.connection_arn)
            )
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def label(policy: str, write_ahead: bool) -> str:
    return policy if policy == "none" else f"{policy}/{'intent+completion' if write_ahead else 'one record'}"


async def run_policy(policy: str, write_ahead: bool, folder: Path, pairs: int) -> dict[str, object]:
    async with (
        Emulator(port=0) as emulator,
        AioBotoBackend(
            region="us-east-1",
            endpoint_url=emulator.url,
            credentials=EMULATOR_CREDENTIALS,
            max_pool_connections=64,
        ) as backend,
    ):
        sinks = []
        log = folder / label(policy, write_ahead).replace("/", "-").replace("+", "-")
        if policy != "none":
            sink = FileSink(log / "audit.jsonl", fsync=policy)  # type: ignore[arg-type]
            await sink.open()
            sinks.append(sink)
        facade = await start_facade(
            backend,
            ["127.0.0.1:0"],
            store_settings=StoreSettings(poll=False),
            auditor=Auditor(sinks, write_ahead=write_ahead),
        )
        try:
            async with grpc.aio.insecure_channel(facade.addresses[0]) as channel:
                stub = pb_grpc.ConnectionServiceStub(channel)
                await mutations(stub, "warm", 10, 1)
                result: dict[str, object] = {"policy": policy, "write_ahead": write_ahead}
                for concurrency in (1, 16):
                    latencies = sorted(await mutations(stub, f"c{concurrency}", pairs, concurrency))
                    result[f"c{concurrency}"] = {
                        "mutations": len(latencies),
                        "p50_ms": statistics.median(latencies) * 1000,
                        "p99_ms": percentile(latencies, 0.99) * 1000,
                    }
        finally:
            await facade.stop(1)
        if policy != "none":
            check = verify([log])
            result["verify"] = (
                f"ok={check.ok} records={check.records} intents={check.intents} open={len(check.findings)}"
            )
        return result


def _filesystem(folder: Path) -> str:
    """The type of the filesystem holding ``folder``, from /proc/mounts (longest matching mount)."""
    best, kind = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if str(folder).startswith(mount) and len(mount) > len(best):
            best, kind = mount, fstype
    return kind


async def main() -> int:
    parser = argparse.ArgumentParser(description="audit fsync cost per mutation")
    parser.add_argument("--pairs", type=int, default=150, help="create+delete pairs per scenario")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    logs.configure("warning")
    results = []
    with tempfile.TemporaryDirectory(prefix="connfacade-audit-bench-") as tmp:
        folder = Path(tmp)
        print(f"audit files in {tmp} ({_filesystem(folder)})")
        for policy, write_ahead in SCENARIOS:
            result = await run_policy(policy, write_ahead, folder, args.pairs)
            results.append(result)
            c1, c16 = result["c1"], result["c16"]
            print(
                f"{label(policy, write_ahead):<25} one at a time: p50 {c1['p50_ms']:6.3f} ms "  # type: ignore[index]
                f"p99 {c1['p99_ms']:6.3f} ms   "  # type: ignore[index]
                f"16 at a time: p50 {c16['p50_ms']:6.3f} ms p99 {c16['p99_ms']:6.3f} ms   "  # type: ignore[index]
                f"{result.get('verify', '')}"
            )
    p50 = {label(str(r["policy"]), bool(r["write_ahead"])): r for r in results}
    base = results[0]
    costs = {
        name: {c: r[c]["p50_ms"] - base[c]["p50_ms"] for c in ("c1", "c16")}  # type: ignore[index]
        for name, r in p50.items()
        if name != "none"
    }
    intent = {
        policy: {
            c: p50[label(policy, True)][c]["p50_ms"] - p50[label(policy, False)][c]["p50_ms"]  # type: ignore[index]
            for c in ("c1", "c16")
        }
        for policy in POLICIES[1:]
    }
    print("\nadded p50 per mutation over no file sink (ms):")
    for name, cost in costs.items():
        print(f"  {name:<25} one at a time {cost['c1']:+.3f}   16 at a time {cost['c16']:+.3f}")
    print("\nthe intent's cost per mutation, intent+completion less one record (p50, ms):")
    for policy, cost in intent.items():
        print(f"  {policy:<7} one at a time {cost['c1']:+.3f}   16 at a time {cost['c16']:+.3f}")
    write_results(
        args.out,
        "audit",
        {"pairs": args.pairs, "results": results, "added_p50_ms": costs, "intent_cost_p50_ms": intent},
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
