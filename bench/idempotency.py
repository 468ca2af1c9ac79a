"""What a full idempotency window costs each create and delete.

    ./scripts/bench idempotency     # or: .venv/bin/python bench/idempotency.py [--remembered 20000 100000]

A facade on the embedded emulator (in this process) serves CreateConnection +
DeleteConnection pairs, each call with its own UUID ``x-request-id`` (so each
is remembered for the window, 600 s), ``--concurrency`` pairs in flight for
``--seconds``. Before the measurement the facade's idempotency cache is filled
with N remembered request ids through its own ``run()``, as if N mutations had
been answered within the window; N = 0 is the baseline. Scenarios alternate
(0, each N, 0, each N, ...) for ``--rounds`` rounds, each on a fresh facade and
emulator, and the report gives mutations/s with N remembered ids against the
baseline of the same round: a ratio near 1 means remembering costs nothing
per mutation. Results go to stdout and to bench/results/idempotency-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from _load import Result, closed_loop, write_results

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server import callcontext, logs
from connfacade.server.app import EMULATOR_CREDENTIALS, start_facade
from connfacade.server.backend import AioBotoBackend
from connfacade.server.domain import Service
from connfacade.server.emulator import Emulator
from connfacade.server.store import StoreSettings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connfacade.server.operations.idempotency import IdempotencyCache

HERE = Path(__file__).resolve().parent
WINDOW = 600.0  # the server's default: nothing expires during a run


async def remember(cache: IdempotencyCache, count: int) -> None:
    """``count`` answered mutations in the cache, each under its own request id."""

    async def answered() -> None:
        return None

    async def one(i: int) -> None:
        callcontext.begin(str(uuid.uuid4())).request_id_supplied = True
        await cache.run(Service.APPRUNNER, "CreateConnection", {"connection_name": f"filled-{i}"}, answered)

    for i in range(count):
        await asyncio.create_task(one(i))  # a task of its own: a call context of its own


def pairs(stub: pb_grpc.ConnectionServiceStub) -> Callable[[], Awaitable[None]]:
    """One create and one delete of a new connection, each under a request id of its own."""
    names = itertools.count()

    async def pair() -> None:
        created = await stub.CreateConnection(
            pb.CreateConnectionRequest(
                connection_name=f"bench-{next(names)}", provider_type=pb.PROVIDER_TYPE_GITHUB
            ),
            metadata=(("x-request-id", str(uuid.uuid4())),),
        )
        await stub.DeleteConnection(
            pb.DeleteConnectionRequest(connection_arn=created.connection.connection_arn),
            metadata=(("x-request-id", str(uuid.uuid4())),),
        )

    return pair


async def scenario(remembered: int, args: argparse.Namespace) -> tuple[Result, int]:
    """Mutations with ``remembered`` ids in the window beforehand; the result and the count at the end."""
    async with (
        Emulator(port=0) as emulator,
        AioBotoBackend(
            region="us-east-1",
            endpoint_url=emulator.url,
            credentials=EMULATOR_CREDENTIALS,
            max_pool_connections=64,
        ) as backend,
    ):
        facade = await start_facade(
            backend, ["127.0.0.1:0"], store_settings=StoreSettings(poll=False), idempotency_window=WINDOW
        )
        try:
            cache = facade.idempotency
            if cache is None:
                raise RuntimeError("the facade has no idempotency cache")
            await remember(cache, remembered)
            gc.collect()
            async with grpc.aio.insecure_channel(facade.addresses[0]) as channel:
                result = await closed_loop(
                    f"{remembered} ids remembered",
                    pairs(pb_grpc.ConnectionServiceStub(channel)),
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                )
            return result, cache.remembered
        finally:
            await facade.stop(1)


async def main() -> int:
    parser = argparse.ArgumentParser(description="mutations/s with a full idempotency window")
    parser.add_argument(
        "--remembered", type=int, nargs="+", default=[20_000, 100_000], help="ids in the window (N)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="create+delete pairs in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    logs.configure("warning")
    rows: list[dict[str, object]] = []
    ratios: dict[int, list[float]] = {n: [] for n in args.remembered}
    for round_ in range(args.rounds):
        baseline = None
        for n in [0, *args.remembered]:
            result, at_end = await scenario(n, args)
            mutations_per_s = 2 * result.throughput  # a pair is a create and a delete
            if baseline is None:
                baseline = mutations_per_s
            else:
                ratios[n].append(mutations_per_s / baseline)
            print(
                f"round {round_ + 1}: {n:>7} remembered: {mutations_per_s:7.0f} mutations/s   "
                f"pair p50 {result.p50_ms:6.2f} ms p99 {result.p99_ms:6.2f} ms   errors {result.errors}   "
                f"remembered at end {at_end}",
                flush=True,
            )
            rows.append(
                {"round": round_ + 1, "remembered": n, "mutations_per_s": mutations_per_s}
                | result.as_dict()
                | {"remembered_at_end": at_end}
            )
    summary = {n: statistics.mean(r) for n, r in ratios.items()}
    print("\nmutations/s with N ids remembered / with none (same round), mean over rounds:")
    for n, ratio in summary.items():
        print(f"  N = {n:>7}: {ratio:.2f}   (rounds: {', '.join(f'{r:.2f}' for r in ratios[n])})")
    write_results(
        args.out,
        "idempotency",
        {
            "window_s": WINDOW,
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "results": rows,
            "ratio_to_empty": {str(n): r for n, r in summary.items()},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
