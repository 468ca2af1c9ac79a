"""Watch fan-out benchmark: N concurrent WatchConnections streams on one server process.

    ./scripts/bench watch                 # or: .venv/bin/python bench/watch.py [--watchers 10000]

Two runs, each against its own fresh server process (with the embedded emulator):
first a baseline with ``--baseline-watchers`` (10) watchers, then ``--watchers``.
In each run:

1. the server starts with poll intervals and a max staleness of an hour, so the
   poller makes its first listing and nothing else on a timer; the driver waits
   for that listing and reads the server's RSS (/proc/PID/status VmRSS);
2. ``--processes`` client processes (bench/_watch_client.py) open the watchers
   (App Runner WatchConnections, skip_initial_snapshot) over HTTP/2 connections
   of ``--per-channel`` streams each, and report when every one is SYNCED; the
   server's RSS again gives the memory per idle watcher;
3. ``--changes`` times, one at a time, the driver creates a connection through
   the facade (write-through: every watcher gets an ADDED event), waits until
   every client reports all its watchers have it, then waits ``--spacing`` s.
   Latency of a (watcher, change) pair = the client's ``time.time()`` when the
   event arrived - the driver's ``time.time()`` just before it sent
   CreateConnection (so it includes the emulator's CreateConnection round trip);
   figures from the moment CreateConnection returned are reported as well;
4. the emulator's request log (``GET /_emulator/requests``), read before the
   watchers open, after they are open and after the changes, gives the upstream
   AWS calls; those of the watch phase must be the same in both runs.

Every watcher must receive every change exactly once; missing and duplicate
events are reported. Results go to stdout and to bench/results/watch-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from _load import percentile, write_results

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.testing import Served, serve

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "_watch_client.py"
HOUR = "3600"
SERVER_FLAGS = (
    "--listen",
    "127.0.0.1:0",
    "--emulator-address",
    "127.0.0.1:0",
    "--metrics-address",
    "off",
    "--log-level",
    "warning",
    # Only the first listing is timed: no poll, and no read-triggered refresh, falls into either run.
    "--poll-fast",
    HOUR,
    "--poll-slow",
    HOUR,
    "--max-staleness",
    HOUR,
)


# ---- processes ------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # already gone
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def terminate(proc: asyncio.subprocess.Process, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; waits for the exit either way."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(grace):
            await proc.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


@dataclass
class Client:
    """One client process and the lines it has said, by their first word."""

    index: int
    watchers: int
    proc: asyncio.subprocess.Process
    summary_path: Path
    stderr_path: Path
    lines: asyncio.Queue[list[str]] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, index: int, watchers: int, args: argparse.Namespace, address: str, workdir: Path
    ) -> Client:
        summary_path = workdir / f"client-{index}.json"
        stderr_path = workdir / f"client-{index}.stderr"
        with stderr_path.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(CLIENT),
                "--address",
                address,
                "--watchers",
                str(watchers),
                "--per-channel",
                str(args.per_channel),
                "--open-concurrency",
                str(args.open_concurrency),
                "--summary",
                str(summary_path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        client = cls(index, watchers, proc, summary_path, stderr_path)
        client.reader = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            await self.lines.put(line.decode().split())
        await self.lines.put(["exited"])

    async def expect(self, word: str, *, arg: str | None = None) -> list[str]:
        """The next line starting with ``word`` (and ``arg``), skipping others."""
        while True:
            line = await self.lines.get()
            if line[:1] == ["exited"]:
                tail = self.stderr_path.read_text(errors="replace").splitlines()[-20:]
                raise RuntimeError(
                    f"client {self.index} exited (code {await self.proc.wait()}) while the driver "
                    f"waited for {word!r}:\n" + "\n".join(tail)
                )
            if line[:1] == [word] and (arg is None or line[1:2] == [arg]):
                return line

    async def finish(self) -> dict[str, Any]:
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.write(b"stop\n")
            with contextlib.suppress(ConnectionError):
                await self.proc.stdin.drain()
        await self.expect("done")
        await self.proc.wait()
        return json.loads(self.summary_path.read_text())

    async def kill(self) -> None:
        await terminate(self.proc, grace=5)
        if self.reader is not None:
            self.reader.cancel()


# ---- emulator request log -------------------------------------------------------------------


async def upstream_calls(http: aiohttp.ClientSession, emulator: str) -> collections.Counter[str]:
    async with http.get(f"{emulator}/_emulator/requests") as response:
        response.raise_for_status()
        entries = (await response.json())["Requests"]
    return collections.Counter(f"{e['Service']}:{e['Operation']}" for e in entries)


async def first_listings(http: aiohttp.ClientSession, emulator: str) -> None:
    """Waits until the poller of each store has made its first ListConnections."""
    async with asyncio.timeout(30):
        while True:
            calls = await upstream_calls(http, emulator)
            if sum(1 for key in calls if key.endswith(":ListConnections")) >= 2:
                return
            await asyncio.sleep(0.1)


def calls_between(before: collections.Counter[str], after: collections.Counter[str]) -> dict[str, int]:
    delta = after.copy()
    delta.subtract(before)
    return {k: v for k, v in sorted(delta.items()) if v}


def call_counts(by_operation: dict[str, int]) -> dict[str, Any]:
    return {
        "all": sum(by_operation.values()),
        "ListConnections": sum(v for k, v in by_operation.items() if k.endswith(":ListConnections")),
        "by_operation": by_operation,
    }


# ---- one run ---------------------------------------------------------------------------


def shares(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def latency_figures(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50_ms": percentile(values, 0.5) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "max_ms": (values[-1] if values else float("nan")) * 1000,
    }


def analyse(
    changes: list[dict[str, Any]], summaries: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Latencies, per change and overall, and every missing, duplicate or unexpected delivery."""
    names = {c["name"]: c for c in changes}
    receipts: dict[str, list[float]] = {name: [] for name in names}
    revisions: dict[str, set[int]] = {name: set() for name in names}
    duplicates = unexpected = 0
    for summary in summaries:
        for events in summary["events"]:
            first: dict[str, float] = {}
            for name, revision, _type, t in events:
                if name not in names:
                    unexpected += 1
                elif name in first:
                    duplicates += 1
                else:
                    first[name] = t
                    revisions[name].add(revision)
            for name, t in first.items():
                receipts[name].append(t)
    live = sum(s["synced"] - s["lost_after_sync"] for s in summaries)
    per_change = []
    from_sent: list[float] = []
    from_returned: list[float] = []
    for name, change in names.items():
        got = receipts[name]
        sent = sorted(t - change["sent"] for t in got)
        from_sent += sent
        from_returned += [t - change["returned"] for t in got]
        figures = latency_figures(sent)
        per_change.append(
            {
                "name": name,
                "revisions": sorted(revisions[name]),
                "received": len(got),
                "create_call_ms": (change["returned"] - change["sent"]) * 1000,
                "to_first_ms": (sent[0] if sent else float("nan")) * 1000,
                "p50_ms": figures["p50_ms"],
                "p99_ms": figures["p99_ms"],
                "to_last_ms": figures["max_ms"],
                "delivered_to_all": change["delivered"],
            }
        )
    deliveries = {
        "watchers_live": live,
        "expected": live * len(changes),
        "received": sum(len(r) for r in receipts.values()),
        "missing": sum(max(0, live - len(r)) for r in receipts.values()),
        "duplicates": duplicates,
        "unexpected": unexpected,
        "latency_from_sent": latency_figures(from_sent),
        "latency_from_returned": latency_figures(from_returned),
        "to_last_watcher": latency_figures([c["to_last_ms"] / 1000 for c in per_change]),
    }
    return deliveries, per_change


async def open_watchers(
    watchers: int, args: argparse.Namespace, server: Served, workdir: Path, clients: list[Client]
) -> dict[str, Any]:
    """Starts the client processes (appended to ``clients``); returns once all report ready."""
    began = time.perf_counter()
    for index, share in enumerate(shares(watchers, args.processes)):
        clients.append(await Client.start(index, share, args, server.address, workdir))
    open_timeout = 60 + watchers * 0.03
    try:
        async with asyncio.timeout(open_timeout):
            ready = [await c.expect("ready") for c in clients]
    except TimeoutError:
        raise RuntimeError(
            f"watchers not all open after {open_timeout:.0f} s; server log tail:\n" + server.stderr[-4000:]
        ) from None
    opened = {
        "seconds": time.perf_counter() - began,
        "synced": sum(int(r[1]) for r in ready),
        "failed": sum(int(r[2]) for r in ready),
    }
    print(
        f"open: {opened['synced']} synced, {opened['failed']} failed, in {opened['seconds']:.1f} s",
        flush=True,
    )
    if opened["synced"] == 0:
        raise RuntimeError("no watcher could open; server log tail:\n" + server.stderr[-4000:])
    return opened


async def make_changes(
    args: argparse.Namespace, server: Served, clients: list[Client]
) -> list[dict[str, Any]]:
    """Creates ``--changes`` connections one at a time, each once every watcher has the one before."""
    changes: list[dict[str, Any]] = []
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = pb_grpc.ConnectionServiceStub(channel)
        for k in range(args.changes):
            name = f"watch-bench-{k:03d}"
            request = pb.CreateConnectionRequest(connection_name=name, provider_type=pb.PROVIDER_TYPE_GITHUB)
            sent = time.time()
            await stub.CreateConnection(request, timeout=30)
            returned = time.time()
            delivered = True
            try:
                async with asyncio.timeout(args.change_timeout):
                    for c in clients:
                        await c.expect("complete", arg=name)
            except TimeoutError:
                delivered = False
            changes.append({"name": name, "sent": sent, "returned": returned, "delivered": delivered})
            note = "" if delivered else f": NOT delivered to every watcher within {args.change_timeout:g} s"
            print(f"change {k + 1}/{args.changes}: {name}{note}", flush=True)
            await asyncio.sleep(args.spacing)
    return changes


def process_figures(pid: int, clients: list[Client]) -> tuple[int, float, float]:
    """The server's RSS and CPU seconds, and the client processes' CPU seconds."""
    return rss_bytes(pid), cpu_seconds(pid), sum(cpu_seconds(c.proc.pid) for c in clients)


async def run(watchers: int, args: argparse.Namespace, workdir: Path, tag: str) -> dict[str, Any]:
    print(f"\n== run {tag}: {watchers} watchers ==", flush=True)
    server = await serve(*SERVER_FLAGS, expect=("grpc", "emulator"), timeout=60)
    clients: list[Client] = []
    calls: dict[str, collections.Counter[str]] = {}
    try:
        pid = server.proc.pid
        async with aiohttp.ClientSession() as http:
            await first_listings(http, server.emulator_url)
            await asyncio.sleep(args.settle)
            (rss_before, cpu_before, _), calls["start"] = (
                process_figures(pid, clients),
                await upstream_calls(http, server.emulator_url),
            )
            opened = await open_watchers(watchers, args, server, workdir, clients)
            await asyncio.sleep(args.settle)
            (rss_open, cpu_open, clients_open), calls["open"] = (
                process_figures(pid, clients),
                await upstream_calls(http, server.emulator_url),
            )
            changes = await make_changes(args, server, clients)
            (rss_end, cpu_end, clients_end), calls["end"] = (
                process_figures(pid, clients),
                await upstream_calls(http, server.emulator_url),
            )
        summaries = [await c.finish() for c in clients]
    finally:
        for c in clients:
            await c.kill()
        await server.stop(grace=15)
        log = [line for line in server.stderr.splitlines() if line.strip()]

    deliveries, per_change = analyse(changes, summaries)
    errors: collections.Counter[str] = collections.Counter()
    retries: collections.Counter[str] = collections.Counter()
    for s in summaries:
        errors.update(s["error_counts"])
        retries.update(s["open_retries"])
    return {
        "watchers": watchers,
        "client_processes": len(clients),
        "channels": sum(s["channels"] for s in summaries),
        "open": {
            **opened,
            "lost_after_sync": sum(s["lost_after_sync"] for s in summaries),
            "retries": dict(retries),
            "errors": dict(errors),
            "errors_sample": [e for s in summaries for e in s["errors_sample"]][:10],
            "time_to_synced": latency_figures([t for s in summaries for t in s["open_seconds"]]),
        },
        "server": {
            "rss_before_mb": rss_before / 2**20,
            "rss_open_mb": rss_open / 2**20,
            "rss_end_mb": rss_end / 2**20,
            "rss_per_idle_watcher_kb": (rss_open - rss_before) / max(1, opened["synced"]) / 1024,
            "cpu_s_opening": cpu_open - cpu_before,
            "cpu_s_changes": cpu_end - cpu_open,
            "clients_cpu_s_opening": clients_open,
            "clients_cpu_s_changes": clients_end - clients_open,
            "log_lines": len(log),
            "log_sample": log[:10],
        },
        "upstream_calls": {
            "startup": call_counts(dict(sorted(calls["start"].items()))),
            "opening": call_counts(calls_between(calls["start"], calls["open"])),
            "changes": call_counts(calls_between(calls["open"], calls["end"])),
            "watch_phase": call_counts(calls_between(calls["start"], calls["end"])),
        },
        "deliveries": deliveries,
        "per_change": per_change,
    }


# ---- report ----------------------------------------------------------------------------


def print_run(r: dict[str, Any]) -> None:
    o, s, d = r["open"], r["server"], r["deliveries"]
    print(
        f"\n{r['watchers']} watchers, {r['client_processes']} client processes, {r['channels']} connections"
    )
    print(
        f"  open      {o['synced']} synced, {o['failed']} failed, {o['lost_after_sync']} lost later, "
        f"in {o['seconds']:.1f} s; retries {o['retries'] or 0}; errors {o['errors'] or 0}"
    )
    print(
        f"  memory    server RSS {s['rss_before_mb']:.1f} MB -> {s['rss_open_mb']:.1f} MB open "
        f"-> {s['rss_end_mb']:.1f} MB after changes; {s['rss_per_idle_watcher_kb']:.1f} KB per idle watcher"
    )
    print(
        f"  cpu       server {s['cpu_s_opening']:.1f} s opening, {s['cpu_s_changes']:.1f} s for the changes; "
        f"clients {s['clients_cpu_s_opening']:.1f} s, {s['clients_cpu_s_changes']:.1f} s"
    )
    print(
        f"  delivery  {d['received']}/{d['expected']} received, missing {d['missing']}, "
        f"duplicates {d['duplicates']}, unexpected {d['unexpected']}"
    )
    for label, key in (
        ("from send", "latency_from_sent"),
        ("from return", "latency_from_returned"),
        ("to last", "to_last_watcher"),
    ):
        f = d[key]
        print(
            f"  {label:<11} p50 {f['p50_ms']:8.1f} ms   p99 {f['p99_ms']:8.1f} ms   max {f['max_ms']:8.1f} ms"
        )
    heads = ("recv", "create", "first", "p50", "p99", "last")
    print(f"  {'change (ms from send)':<22} {'rev':>5} " + " ".join(f"{h:>7}" for h in heads))
    for c in r["per_change"]:
        revision = ",".join(map(str, c["revisions"])) or "-"
        values = (c["create_call_ms"], c["to_first_ms"], c["p50_ms"], c["p99_ms"], c["to_last_ms"])
        print(f"  {c['name']:<22} {revision:>5} {c['received']:>7} " + " ".join(f"{v:7.1f}" for v in values))
    u = r["upstream_calls"]
    phases = ("startup", "opening", "changes")
    print(
        "  upstream  "
        + ", ".join(f"{p} {u[p]['all']}" for p in phases)
        + " (of which ListConnections "
        + "/".join(str(u[p]["ListConnections"]) for p in phases)
        + ")"
    )


def compare_upstream(baseline: dict[str, Any], main_run: dict[str, Any]) -> dict[str, Any]:
    compared = {
        phase: {
            "baseline": baseline["upstream_calls"][phase]["by_operation"],
            "main": main_run["upstream_calls"][phase]["by_operation"],
        }
        for phase in ("startup", "opening", "changes", "watch_phase")
    }
    equal = all(v["baseline"] == v["main"] for v in compared.values())
    print(
        f"\nupstream AWS calls, {baseline['watchers']} vs {main_run['watchers']} watchers: "
        + ("EQUAL" if equal else "DIFFERENT")
    )
    for phase, v in compared.items():
        print(f"  {phase:<12} {sum(v['baseline'].values()):>4} vs {sum(v['main'].values()):>4}   {v['main']}")
    return {"equal": equal, **compared}


async def main() -> int:
    parser = argparse.ArgumentParser(description="connfacade watch fan-out benchmark")
    parser.add_argument("--watchers", type=int, default=10_000)
    parser.add_argument("--baseline-watchers", type=int, default=10)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--per-channel", type=int, default=100, help="streams per HTTP/2 connection")
    parser.add_argument(
        "--open-concurrency", type=int, default=100, help="streams opening at once, per client process"
    )
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between changes")
    parser.add_argument(
        "--change-timeout", type=float, default=60.0, help="seconds for one change to reach all"
    )
    parser.add_argument("--settle", type=float, default=2.0, help="quiet seconds before reading RSS")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="connfacade-watch-") as tmp:
        workdir = Path(tmp)
        async with asyncio.timeout(900 + args.watchers * 0.1):
            baseline = await run(args.baseline_watchers, args, workdir, "baseline")
            print_run(baseline)
            main_run = await run(args.watchers, args, workdir, "main")
            print_run(main_run)
    upstream = compare_upstream(baseline, main_run)

    parameters = {k: v for k, v in vars(args).items() if k != "out"}
    write_results(
        args.out,
        "watch",
        {
            "transport": "tcp loopback",
            "parameters": parameters,
            "server_flags": list(SERVER_FLAGS),
            "latency_clock": "client time.time() on arrival - driver time.time() just before "
            "CreateConnection is sent (from_returned: just after it returned)",
            "baseline": baseline,
            "main": main_run,
            "upstream_calls_compared": upstream,
        },
    )
    d = main_run["deliveries"]
    return 0 if upstream["equal"] and not (d["missing"] or d["duplicates"]) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
