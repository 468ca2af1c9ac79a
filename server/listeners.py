"""Where the server listens: TCP addresses and Unix sockets made safe to reuse.

A Unix socket file outlives a crashed server. Binding over it must not steal
the address of a live server, so a socket that still answers is left alone
(and the start fails), while a stale one is replaced. The file gets mode 0660
(owner and group: the app container shares the group) and is removed on exit.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from pathlib import Path

SOCKET_MODE = 0o660


def unix_path(address: str) -> Path | None:
    """The socket path of a ``unix:`` address, else None."""
    if not address.startswith("unix:"):
        return None
    return Path(address.removeprefix("unix:").removeprefix("//"))


def prepare_unix_socket(path: Path) -> None:
    """Makes ``path`` bindable: creates its folder, removes a stale socket; refuses a live one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise RuntimeError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # left behind by a server that is gone
        return
    except OSError as err:
        raise RuntimeError(f"cannot tell whether {path} is in use: {err}") from err
    finally:
        probe.close()
    raise RuntimeError(f"another server is listening on {path}")


def secure_unix_socket(path: Path) -> None:
    """Gives the bound socket its mode (owner and group may connect)."""
    os.chmod(path, SOCKET_MODE)  # noqa: PTH101 - one call, the path may be a socket


def remove_unix_socket(path: Path) -> None:
    """Removes the socket file at exit."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
