"""Generated code is never edited by hand: a stale copy fails here (as in scripts/check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "script",
    ["gen_protos.py", "unasync.py"],
    ids=["protobuf-stubs-match-the-protos", "sync-client-matches-the-asyncio-client"],
)
def test_generated_code_is_fresh(script):
    """Regenerating changes nothing: run ``scripts/<script>`` after editing its source."""
    done = subprocess.run(  # noqa: S603 - this interpreter on a script of the project
        [sys.executable, str(ROOT / "scripts" / script), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
