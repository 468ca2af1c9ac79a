"""Starting and stopping real `connfacade serve` processes for sidecar tests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

CONNFACADE = Path(sys.executable).parent / "connfacade"


class Served:
    """A running server process and what it announced."""

    def __init__(self, proc, lines):
        self.proc = proc
        self.lines = lines

    def announced(self, pattern):
        for line in self.lines:
            if m := re.search(pattern, line):
                return m.group(1)
        return None

    async def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        async with asyncio.timeout(timeout):
            out, err = await self.proc.communicate()
        return self.proc.returncode, out.decode(), err.decode()


async def serve(*args, env=None, expect=("gRPC listening on",), timeout=30):
    """Starts `connfacade serve ARGS`; returns once every expected banner line appeared."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment |= env or {}
    proc = await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "serve",
        "--metrics-address",
        "127.0.0.1:0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=environment,
    )
    lines = []
    async with asyncio.timeout(timeout):
        while not all(any(e in line for line in lines) for e in expect):
            line = (await proc.stdout.readline()).decode()
            if not line:
                break
            lines.append(line)
    return Served(proc, lines)
