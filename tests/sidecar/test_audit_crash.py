"""SIGKILL at random moments during concurrent creates: nothing changes in AWS without an intent.

Round after round, a real `connfacade serve --audit-file` takes creates from
many workers (half of them idempotent, with UUID request ids) and is killed
with SIGKILL at a random moment; the next round's server starts on the same
log, closes the intents the killed one left open (asking the emulator, which
outlives every server) and serves again. At the end every connection AWS has
has an intent, every intent a completion, and `verify` finds the chain intact.

``CONNFACADE_CRASH_ROUNDS`` sets the rounds (``./scripts/crash`` runs many and
writes the figures to ``bench/results/``); ``CONNFACADE_CRASH_RESULTS`` is the
file the figures are written to.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import grpc

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.audit import verify
from connfacade.server.domain import Service
from connfacade.server.testing import serve

ROUNDS = int(os.environ.get("CONNFACADE_CRASH_ROUNDS", "6"))
WORKERS = 12
KILL_AFTER = (0.3, 1.0)  # seconds of load before the SIGKILL, drawn per round
AWS_LATENCY_MS = 150  # AWS acts this long after a create arrives: kills land between intent and answer
ENV = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"}


async def start(emulator, audit: Path):
    return await serve(
        *("--backend", "aws", "--aws-endpoint-url", emulator.url, "--listen", "127.0.0.1:0"),
        *("--audit-file", str(audit), "--audit-fsync", "batch", "--audit-stdout", "off"),
        env=ENV,
    )


async def load(address: str, round_: int, tally: dict[str, int]) -> list[asyncio.Task[None]]:
    """Workers creating connections until their server dies; half send a UUID x-request-id."""
    channel = grpc.aio.insecure_channel(address)
    stub = pb_grpc.ConnectionServiceStub(channel)

    async def worker(w: int) -> None:
        i = 0
        while True:
            i += 1
            metadata = (("x-request-id", str(uuid.uuid4())),) if w % 2 else ()
            request = pb.CreateConnectionRequest(
                connection_name=f"r{round_:03d}-w{w:02d}-{i:04d}", provider_type=pb.PROVIDER_TYPE_GITHUB
            )
            tally["creates"] += 1
            try:
                await stub.CreateConnection(request, metadata=metadata, timeout=10)
            except grpc.aio.AioRpcError as err:
                if err.code() in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}:
                    tally["cut_off"] += 1
                    return  # the server is gone
                tally["refused"] += 1  # answered, not OK: the worker goes on
                continue
            tally["answered"] += 1

    tasks = [asyncio.create_task(worker(w)) for w in range(WORKERS)]

    async def close_when_done() -> None:
        await asyncio.gather(*tasks)
        await channel.close()

    return [*tasks, asyncio.create_task(close_when_done())]


def audit_records(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("audit.jsonl*"))
        if not path.name.endswith((".head", ".lock"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


async def emulator_connections(backend) -> dict[str, str]:
    """Name -> ARN of every App Runner connection AWS has."""
    found, token = {}, ""
    while True:
        out = await backend.call(Service.APPRUNNER, "ListConnections", {"NextToken": token} if token else {})
        found |= {c["ConnectionName"]: c["ConnectionArn"] for c in out["ConnectionSummaryList"]}
        if not (token := out.get("NextToken")):
            return found


async def test_sigkill_during_creates_leaves_no_change_in_aws_without_intent_and_completion(
    emulator, control, backend, tmp_path, record_property
):
    """Every connection in AWS has an intent; after restarts every intent has a completion; verify passes."""
    await control.configure(quotas={"AppRunnerConnectionsPerRegion": 1_000_000})  # many rounds, one AWS
    seed = int(os.environ.get("CONNFACADE_CRASH_SEED", str(time.time_ns())))
    rng = random.Random(seed)  # noqa: S311 - kill moments, not secrets
    audit = tmp_path / "audit" / "audit.jsonl"
    tally = {"kills": 0, "creates": 0, "answered": 0, "refused": 0, "cut_off": 0}
    for round_ in range(ROUNDS):
        # Every other round AWS is slow, and carries out creates whose caller died meanwhile (as
        # it would): kills leave intents whose mutation happened, and others whose did not.
        await control.clear_faults()
        if round_ % 2:
            await control.inject_fault("CreateConnection", "latency", latency_ms=AWS_LATENCY_MS)
        server = await start(emulator, audit)
        tasks = await load(server.address, round_, tally)
        await asyncio.sleep(rng.uniform(*KILL_AFTER))
        server.proc.send_signal(signal.SIGKILL)
        await server.exited()
        tally["kills"] += 1
        async with asyncio.timeout(30):
            await asyncio.gather(*tasks)

    final = await start(emulator, audit)  # closes what the last kill left open
    code, _, err = await final.stop()
    assert code == 0, err

    records = audit_records(audit.parent)
    intents = {r["eventID"]: r for r in records if r.get("stage") == "intent"}
    completions = [r for r in records if r.get("stage") == "completion"]
    recovered = [r for r in completions if "recovered" in r]
    in_aws = await emulator_connections(backend)
    intent_names = {r["requestParameters"]["connection_name"] for r in intents.values()}
    result = verify([audit.parent])
    figures = tally | {
        "seed": seed,
        "records": len(records),
        "intents": len(intents),
        "completions": len(completions),
        "recovered": len(recovered),
        "recovered_applied": sum(r["recovered"]["result"] == "applied" for r in recovered),
        "recovered_not_applied": sum(r["recovered"]["result"] == "not_applied" for r in recovered),
        "connections_in_aws": len(in_aws),
        "unresolved_after_recovery": len(result.findings),
    }
    for key, value in figures.items():
        record_property(key, value)
    if out := os.environ.get("CONNFACADE_CRASH_RESULTS"):
        await asyncio.to_thread(Path(out).write_text, json.dumps(figures, indent=2))

    assert result.ok, result
    assert result.findings == (), result.findings
    assert set(in_aws) <= intent_names, sorted(set(in_aws) - intent_names)
    assert len(completions) == len(intents)
    # Each recovered completion says what AWS has: applied exactly when the connection exists.
    for completion in recovered:
        name = intents[completion["intentID"]]["requestParameters"]["connection_name"]
        assert (completion["recovered"]["result"] == "applied") == (name in in_aws), completion
    assert tally["kills"] == ROUNDS
