"""A caller without credentials floods the server: what it makes the server write, per second and per call.

    ./scripts/bench unauthenticated   # or: .venv/bin/python bench/unauthenticated.py [--seconds 5]

`connfacade serve` runs in a process of its own (authentication on, the
embedded emulator, an audit file with fsync `batch`, logs at `info` on
stderr). This process keeps ``--concurrency`` token-less CreateConnection
calls in flight over one channel for ``--seconds``, each with 50 tags of
256 characters (14 KiB of request), and counts the answers by code, the
audit file's growth and the bytes of log lines the server wrote meanwhile.
Each scenario is one ``--auth-failure-rate`` (``--rates``; ``default``
passes no flag, so that the same script measures a server that has none).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import grpc
from _load import write_results

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.security import hash_token

HERE = Path(__file__).resolve().parent
CONNFACADE = Path(sys.executable).parent / "connfacade"
BIG_CREATE = pb.CreateConnectionRequest(
    connection_name="flood",
    provider_type=pb.PROVIDER_TYPE_GITHUB,
    tags=[pb.Tag(key=f"key-{i:03d}", value="v" * 256) for i in range(50)],
)
MB = 1e6


class Counted:
    """Bytes read from a stream until it ends."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.bytes = 0
        self._task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.bytes += len(chunk)

    async def done(self) -> None:
        await self._task


async def flood(target: str, concurrency: int, seconds: float) -> dict[str, int]:
    """Token-less big creates, ``concurrency`` at a time over one channel, for ``seconds``; codes counted."""
    codes: dict[str, int] = {}
    stop_at = time.monotonic() + seconds
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.ConnectionServiceStub(channel)

        async def worker() -> None:
            while time.monotonic() < stop_at:
                try:
                    await stub.CreateConnection(BIG_CREATE, timeout=10)
                    code = "OK"
                except grpc.aio.AioRpcError as err:
                    code = err.code().name
                codes[code] = codes.get(code, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return codes


def written(folder: Path) -> int:
    """Bytes of every audit file in ``folder`` (the live one and those rotated out)."""
    return sum(path.stat().st_size for path in folder.iterdir())


async def scenario(folder: Path, rate: str, args: argparse.Namespace) -> dict[str, object]:
    audit = folder / "audit.jsonl"
    flags = [] if rate == "default" else ["--auth-failure-rate", rate]
    proc = await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--emulator-address",
        "127.0.0.1:0",
        "--metrics-address",
        "off",
        "--audit-stdout",
        "off",
        "--audit-file",
        str(audit),
        "--log-level",
        "info",
        "--principals-file",
        str(folder.parent / "principals.toml"),
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    if proc.stdout is None or proc.stderr is None:
        raise RuntimeError("no pipes to the server")
    try:
        async with asyncio.timeout(30):
            while not (
                found := re.search(r"gRPC listening on (\S+)", (await proc.stdout.readline()).decode())
            ):
                pass
        logs = Counted(proc.stderr)
        await asyncio.sleep(0.5)  # start-up lines are not the flood's
        audit_before, logs_before = written(folder), logs.bytes
        began = time.perf_counter()
        codes = await flood(found.group(1), args.concurrency, args.seconds)
        elapsed = time.perf_counter() - began
        await asyncio.sleep(1.0)  # batched writes reach the file
        audit_bytes, log_bytes = written(folder) - audit_before, logs.bytes - logs_before
    finally:
        proc.terminate()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await proc.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    calls = sum(codes.values())
    return {
        "auth_failure_rate": rate,
        "calls": calls,
        "calls_per_s": calls / elapsed,
        "answers": codes,
        "audit_mb_per_s": audit_bytes / elapsed / MB,
        "audit_bytes_per_call": audit_bytes / calls,
        "log_mb_per_s": log_bytes / elapsed / MB,
        "log_bytes_per_call": log_bytes / calls,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description="a token-less flood: audit and log bytes it costs")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long the flood lasts")
    parser.add_argument("--concurrency", type=int, default=50, help="calls in flight (one channel)")
    parser.add_argument(
        "--rates",
        type=lambda text: text.split(","),
        default=["0", "default"],
        help="--auth-failure-rate per scenario, the first the baseline ('default': no flag)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="connfacade-unauthenticated-") as tmp:
        folder = Path(tmp)
        token = hash_token(os.urandom(16).hex())
        (folder / "principals.toml").write_text(
            f'[[principals]]\nname = "someone"\nrole = "editor"\ntoken_sha256 = "{token}"\n'
        )
        for i, rate in enumerate(args.rates):
            (folder / str(i)).mkdir()
            result = await scenario(folder / str(i), rate, args)
            results.append(result)
            print(
                f"auth-failure-rate {rate:>7}: {result['calls_per_s']:7.0f} calls/s; "
                f"audit {result['audit_mb_per_s']:.3f} MB/s ({result['audit_bytes_per_call']:.0f} B/call, "
                f"{result['answers']}); log {result['log_mb_per_s']:.3f} MB/s "
                f"({result['log_bytes_per_call']:.0f} B/call)"
            )
    first, last = results[0], results[-1]
    ratios = {
        f"{kind}_bytes_per_call_last_over_baseline": float(last[f"{kind}_bytes_per_call"])  # type: ignore[arg-type]
        / float(first[f"{kind}_bytes_per_call"])  # type: ignore[arg-type]
        for kind in ("audit", "log")
    }
    print(
        f"\n{last['auth_failure_rate']} against {first['auth_failure_rate']}: audit bytes per call "
        f"x{ratios['audit_bytes_per_call_last_over_baseline']:.4f}, log bytes per call "
        f"x{ratios['log_bytes_per_call_last_over_baseline']:.4f}"
    )
    write_results(
        args.out,
        "unauthenticated",
        {"seconds": args.seconds, "concurrency": args.concurrency, "scenarios": results, "ratios": ratios},
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
