"""The soak command, run short: a real server under load and faults keeps every invariant."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.mark.timeout(90)
async def test_a_short_soak_keeps_every_invariant(tmp_path):
    """Eight seconds of mixed calls and every fault kind: no gap, duplicate, lost audit record or INTERNAL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SOAK),
        "--duration", "8",
        "--concurrency", "3",
        "--watchers", "1",
        "--deadline", "1.5",
        "--fault-hold", "1",
        "--fault-rest", "0.5",
        "--stream-lifetime", "1.5", "3",
        "--settle", "1.5",
        "--seed", "7",
        "--rss-every", "1",
        "--idempotency-window", "60",
        "--history-limit", "2000",
        "--out", str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    (results,) = tmp_path.glob("soak-*.json")
    result = json.loads(results.read_text())
    broken = {name: v["value"] for name, v in result["invariants"].items() if not v["ok"]}
    assert broken == {}, report
    assert proc.returncode == 0, report
    # The run did what a soak is for: real traffic, every fault kind, resumed streams, audited mutations.
    assert result["calls_total"] > 100
    assert set(result["faults"]["injected"]) >= {"throttle", "error", "latency", "drop"}
    assert all(w["events"] > 0 and w["cut_by_soak"] > 0 for w in result["watch"]["watchers"])
    assert result["audit"]["records"] == result["audit"]["mutations_sent"] > 0
    assert result["server"]["exit_code"] == 0
    # RSS over time, for the plateau of a long run: a sample each second, and the growth per half.
    assert len(result["server"]["rss_samples"]) >= 6
    assert set(result["server"]["rss_growth"]) == {"first_half_mb", "second_half_mb"}
