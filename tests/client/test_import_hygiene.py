"""A client-only install has grpcio, grpcio-status, protobuf and googleapis-common-protos only."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Run in a fresh interpreter in which the server's dependencies cannot be
# imported, as after `pip install connfacade` without the server extra.
_PROBE = textwrap.dedent(
    """
    import importlib.abc, sys

    FORBIDDEN = ("aiobotocore", "botocore", "aiohttp", "structlog", "connfacade.server")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                raise ImportError(f"No module named {name!r} (blocked: client-only install)")
            return None

    sys.meta_path.insert(0, Block())

    import connfacade.client
    import connfacade.client.aio, connfacade.client.sync, connfacade.client.cli
    import connfacade.client.errors, connfacade.client.paginators

    loaded = sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert not loaded, loaded
    sys.exit(connfacade.client.cli.main(["serve", "--port", "1"]))
    """
)


def test_client_imports_nothing_from_the_server_side():
    """Every client module imports; `serve` then explains which extra is missing and exits 1."""
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-W", "error", "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1, result.stderr
    assert "connfacade serve needs the server extra: pip install 'connfacade[server]'" in result.stderr
    assert "Traceback" not in result.stderr
