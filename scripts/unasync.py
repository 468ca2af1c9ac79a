"""Writes client/sync.py from client/aio.py, so the two clients cannot drift.

    .venv/bin/python scripts/unasync.py          # regenerate client/sync.py
    .venv/bin/python scripts/unasync.py --check  # exit 1 if it is stale (scripts/check runs this)

The blocking client is the asyncio one with the coroutine syntax taken out and
the async types swapped for their blocking twins (httpcore keeps its sync
half the same way). Edit client/aio.py, then run this.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "client" / "aio.py"
TARGET = ROOT / "client" / "sync.py"

# Whole blocks that differ in words, not only in syntax.
BLOCKS = (
    (
        (
            "# ruff: noqa: ASYNC109 - `timeout` is the gRPC deadline, sent to the server with the call;\n"
            "# asyncio.timeout() would only cancel locally and leave the server working.\n"
            '"""asyncio clients of the facade, one per AWS service, with boto3-style method names.\n'
        ),
        (
            "# Generated from client/aio.py by scripts/unasync.py: edit that file, then run the script.\n"
            '"""Blocking clients of the facade, one per AWS service, with boto3-style method names.\n'
            "\n"
            "The same methods as :mod:`connfacade.client.aio`, over a plain ``grpc.Channel``,\n"
            "for scripts and threads that have no event loop.\n"
        ),
    ),
    ("import asyncio\n", "import time\n"),
    ("import grpc\nimport grpc.aio\n", "import grpc\n"),
    ("self._channel.close(None)", "self._channel.close()"),
)

# Words, in order; each a regular expression matched on word boundaries.
WORDS = (
    (r"async def ", "def "),
    (r"async with ", "with "),
    (r"async for ", "for "),
    (r"await asyncio\.sleep\(", "time.sleep("),
    (r"await ", ""),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r"grpc\.aio\.", "grpc."),
    (r"AsyncPaginator", "Paginator"),
    (r"AsyncConnectionWatch", "ConnectionWatch"),
    (r"_AsyncClient", "_SyncClient"),
)


def unasync(text: str) -> str:
    """The blocking twin of the asyncio client's source."""
    for old, new in BLOCKS:
        if old not in text:
            sys.exit(f"unasync: {SOURCE.name} no longer contains the block {old[:60]!r}; update BLOCKS")
        text = text.replace(old, new)
    for pattern, replacement in WORDS:
        text = re.sub(rf"\b{pattern}" if pattern[0].isalpha() else pattern, replacement, text)
    return _formatted(text)


def _formatted(text: str) -> str:
    """The text as ``ruff format`` lays it out: shorter lines may now fit on one."""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(TARGET), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        sys.exit(f"unasync: ruff format failed: {done.stderr}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write client/sync.py from client/aio.py")
    parser.add_argument("--check", action="store_true", help="fail if client/sync.py is stale")
    args = parser.parse_args(argv)
    wanted = unasync(SOURCE.read_text())
    current = TARGET.read_text() if TARGET.exists() else ""
    if args.check:
        if current == wanted:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True), wanted.splitlines(keepends=True), "client/sync.py", "generated"
        )
        sys.stdout.writelines(diff)
        print("client/sync.py is stale: run .venv/bin/python scripts/unasync.py")
        return 1
    if current != wanted:
        TARGET.write_text(wanted)
        print("wrote client/sync.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
