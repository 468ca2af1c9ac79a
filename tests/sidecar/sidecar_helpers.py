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
    """A running server process and what it announced.

    Its stdout and stderr are read all the time: a full pipe would block the
    server's event loop on its next log line (a container runtime drains them
    the same way).
    """

    def __init__(self, proc, lines):
        self.proc = proc
        self.lines = lines
        self.out: list[bytes] = []
        self.err: list[bytes] = []
        self._readers = [
            asyncio.create_task(_drain(proc.stdout, self.out)),
            asyncio.create_task(_drain(proc.stderr, self.err)),
        ]

    def announced(self, pattern):
        for line in self.lines:
            if m := re.search(pattern, line):
                return m.group(1)
        return None

    async def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await self.exited(timeout)

    async def exited(self, timeout=60):
        """Waits for the process to end by itself (e.g. after refusing to start)."""
        async with asyncio.timeout(timeout):
            await self.proc.wait()
            await asyncio.gather(*self._readers)
        return self.proc.returncode, b"".join(self.out).decode(), b"".join(self.err).decode()


async def _drain(stream, sink):
    while chunk := await stream.read(65536):
        sink.append(chunk)


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
