"""`connfacade serve` as a process, for tests and benchmarks: start it, read its banner, stop it.

`serve` starts ``connfacade serve ARGS`` as an operator or a sidecar runtime
does and returns once the banner has announced what the caller waits for
(the gRPC address, by default), or once the process has closed its output
(it refused to start: `Served.exited` says how). The process's output is read
all the time, as a container runtime reads it: a full pipe would block the
server's event loop on its next log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Self

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from types import TracebackType

__all__ = ["BANNER", "CONNFACADE", "Exit", "Served", "serve"]

CONNFACADE = Path(sys.executable).parent / "connfacade"

# What `connfacade serve` announces on stdout once it serves, by key (server/app.py prints it).
BANNER = {
    "grpc": re.compile(r"connfacade: gRPC listening on (\S+)"),
    "health": re.compile(r"connfacade: health \(grpc\.health\.v1\) on (\S+)"),
    "metrics": re.compile(r"connfacade: metrics at (http://\S+)"),
    "emulator": re.compile(r"connfacade: AWS emulator at (\S+)"),
}
# Free ports for what the caller does not place (its flags and environment win):
# servers started side by side must not clash on the fixed defaults.
FREE_PORTS = {"CONNFACADE_METRICS_ADDRESS": "127.0.0.1:0", "CONNFACADE_EMULATOR_ADDRESS": "127.0.0.1:0"}
_TAIL = 4000  # characters of output an error message quotes


class Exit(NamedTuple):
    """How a served process ended, and everything it wrote."""

    code: int
    out: str
    err: str


class Served:
    """A running served process, what its banner announced, and its output so far."""

    def __init__(self, proc: asyncio.subprocess.Process, banner: Mapping[str, re.Pattern[str]]) -> None:
        if proc.stdout is None or proc.stderr is None:
            raise ValueError("a served process needs pipes for stdout and stderr")
        self.proc = proc
        self._banner = banner
        self._announced: dict[str, list[str]] = {}
        self._out: list[str] = []
        self._err: list[bytes] = []
        self._closed = False
        self._news = asyncio.Condition()
        self._readers = [
            asyncio.create_task(self._read_out(proc.stdout)),
            asyncio.create_task(self._read_err(proc.stderr)),
        ]

    async def _read_out(self, stream: asyncio.StreamReader) -> None:
        while line := (await stream.readline()).decode(errors="replace"):
            self._out.append(line)
            for key, pattern in self._banner.items():
                if found := pattern.fullmatch(line.rstrip("\n")):
                    self._announced.setdefault(key, []).append(found.group(1))
            async with self._news:
                self._news.notify_all()
        async with self._news:
            self._closed = True
            self._news.notify_all()

    async def _read_err(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self._err.append(chunk)

    async def until_announced(self, expect: Collection[str], timeout: float = 30.0) -> None:  # noqa: ASYNC109 - see below
        """Waits until every key in ``expect`` was announced or the output closed.

        Past ``timeout`` the process is killed and TimeoutError raised with the end of
        its log (a caller's own timeout would leave the process running).
        """
        try:
            async with asyncio.timeout(timeout), self._news:
                await self._news.wait_for(lambda: self._closed or all(k in self._announced for k in expect))
        except TimeoutError:
            await self._kill()
            raise TimeoutError(f"nothing announced {sorted(expect)} in {timeout} s; {self._tail()}") from None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout(self) -> str:
        """What the process wrote on stdout so far, banner included."""
        return "".join(self._out)

    @property
    def stderr(self) -> str:
        """What the process wrote on stderr so far (its log)."""
        return b"".join(self._err).decode(errors="replace")

    def announced(self, key: str) -> list[str]:
        """Every value the banner gave for ``key`` (one of `BANNER`'s), in order; empty if none."""
        return list(self._announced.get(key, ()))

    def _one(self, key: str) -> str:
        if values := self._announced.get(key):
            return values[0]
        raise LookupError(f"the server announced no {key!r}; {self._tail()}")

    @property
    def address(self) -> str:
        """The first gRPC address the banner named."""
        return self._one("grpc")

    @property
    def health_address(self) -> str:
        return self._one("health")

    @property
    def metrics_url(self) -> str:
        """The URL of the /metrics page."""
        return self._one("metrics")

    @property
    def emulator_url(self) -> str:
        return self._one("emulator")

    def _tail(self) -> str:
        code = self.proc.returncode
        state = "still running" if code is None else f"exited with {code}"
        return f"the process is {state}; its stderr ends:\n{self.stderr[-_TAIL:]}"

    async def exited(self, timeout: float = 60.0) -> Exit:  # noqa: ASYNC109 - it kills the process past it
        """Waits for the process to end by itself (e.g. after refusing to start)."""
        try:
            async with asyncio.timeout(timeout):
                await self.proc.wait()
        except TimeoutError:
            await self._kill()
            raise TimeoutError(f"the process did not exit within {timeout} s; {self._tail()}") from None
        return await self._ended()

    async def stop(self, sig: signal.Signals = signal.SIGTERM, grace: float = 60.0) -> Exit:
        """Sends ``sig`` and waits for the exit; past ``grace`` seconds the process is killed.

        A killed process's code is negative: a test expecting a clean exit sees it.
        """
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
        try:
            async with asyncio.timeout(grace):
                await self.proc.wait()
        except TimeoutError:
            await self._kill()
        return await self._ended()

    async def _kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.proc.wait()
        await self._ended()

    async def _ended(self) -> Exit:
        # The pipes close with the process (or with a child holding them: then stop reading).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*self._readers)
        for reader in self._readers:
            reader.cancel()
        code = self.proc.returncode
        if code is None:
            raise RuntimeError("the process has not exited")
        return Exit(code, self.stdout, self.stderr)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def serve(
    *args: str,
    env: Mapping[str, str] | None = None,
    expect: Collection[str] = ("grpc",),
    timeout: float = 30.0,  # noqa: ASYNC109 - past it the process is killed, see `Served.until_announced`
    command: Sequence[str] = (str(CONNFACADE), "serve"),
    banner: Mapping[str, re.Pattern[str]] = BANNER,
) -> Served:
    """Starts ``command ARGS`` and returns once ``expect`` (keys of ``banner``) was announced.

    It also returns when the process closes its output first, having refused to
    start: `Served.exited` gives its code and log. The environment is this
    process's without AWS_* and CONNFACADE_* (no ambient credential or setting
    leaks in), with `FREE_PORTS`, then ``env``. Past ``timeout`` the process is
    killed and TimeoutError raised.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNFACADE_"))}
    environment |= FREE_PORTS | dict(env or {})
    proc = await asyncio.create_subprocess_exec(
        *command,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=environment,
    )
    served = Served(proc, banner)
    await served.until_announced(expect, timeout)
    return served
