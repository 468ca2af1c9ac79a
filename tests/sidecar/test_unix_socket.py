"""The gRPC API on a Unix socket: mode 0660, stale sockets replaced, live ones kept, removed on exit."""

from __future__ import annotations

import socket
import stat

import grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.server.testing import serve


async def test_serves_on_a_socket_with_mode_0660_and_removes_it_on_exit(tmp_path):
    """A client is served over the socket; the file is 0660 while up and gone after SIGTERM."""
    path = tmp_path / "run" / "grpc.sock"
    served = await serve("--listen", f"unix:{path}", "--emulator-address", "127.0.0.1:0")
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    async with grpc.aio.insecure_channel(f"unix:{path}") as channel:
        page = await ar_grpc.ConnectionServiceStub(channel).ListConnections(ar.ListConnectionsRequest())
    assert list(page.connection_summary_list) == []
    code, _, _ = await served.stop()
    assert code == 0
    assert not path.exists()


async def test_a_stale_socket_left_by_a_crash_is_replaced(tmp_path):
    """A socket file nobody listens on is removed and the server binds."""
    path = tmp_path / "grpc.sock"
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(str(path))
    crashed.close()  # the file stays, as after a crash
    served = await serve("--listen", f"unix:{path}", "--emulator-address", "127.0.0.1:0")
    assert served.address == f"unix:{path}"
    assert (await served.stop())[0] == 0


async def test_a_live_socket_is_not_stolen(tmp_path):
    """A second server on a socket that a live server holds refuses to start."""
    path = tmp_path / "grpc.sock"
    first = await serve("--listen", f"unix:{path}", "--emulator-address", "127.0.0.1:0")
    second = await serve("--listen", f"unix:{path}", "--emulator-address", "127.0.0.1:0")
    code, _, err = await second.exited()
    assert code == 1
    assert "another server is listening" in err
    async with grpc.aio.insecure_channel(f"unix:{path}") as channel:  # the first still serves
        await ar_grpc.ConnectionServiceStub(channel).ListConnections(ar.ListConnectionsRequest())
    assert (await first.stop())[0] == 0


async def test_a_path_that_is_not_a_socket_is_never_replaced(tmp_path):
    """A regular file at the socket path is an error, not something to delete."""
    path = tmp_path / "grpc.sock"
    path.write_text("precious")
    served = await serve("--listen", f"unix:{path}", "--emulator-address", "127.0.0.1:0")
    code, _, err = await served.exited()
    assert code == 1
    assert "is not a socket" in err
    assert path.read_text() == "precious"
