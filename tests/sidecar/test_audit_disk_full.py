"""A full disk under `connfacade serve --audit-file`: no intent, no AWS call; space back, mutations back.

The disk is a 256 KiB tmpfs the test mounts (as root), filled up with a file of
its own; without root, a file-size limit (RLIMIT_FSIZE) on the server process
does the same to the audit file. AWS is the test's emulator, whose request log
counts the creates that reached it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import subprocess
import uuid
from typing import TYPE_CHECKING

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.audit import verify
from connfacade.server.testing import serve

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ENV = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"}
TMPFS_SIZE = "256k"
CREATES_WHILE_FULL = 12


class TmpfsDisk:
    """A small tmpfs: full when a filler file takes every free byte, free again when it is removed."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            with pytest.raises(OSError, match="No space left") as full:  # noqa: PT012 - writes until refused
                while True:
                    os.write(fd, b"\0" * 512)
            assert full.value.errno == errno.ENOSPC
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


class FileSizeLimit:
    """RLIMIT_FSIZE on the server: at the audit file's current size it can grow no more (EFBIG)."""

    def __init__(self, audit: Path) -> None:
        self.audit = audit
        self.pid = 0

    def fill(self) -> None:
        size = self.audit.stat().st_size
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    def free(self) -> None:
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _can_mount() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def tmpfs(path: Path) -> Iterator[Path]:
    path.mkdir()
    mount, umount = shutil.which("mount"), shutil.which("umount")
    assert mount
    assert umount
    subprocess.run(  # noqa: S603 - the system's mount, on the test's own folder
        [mount, "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run([umount, str(path)], check=True)  # noqa: S603 - as above


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TmpfsDisk | FileSizeLimit]:
    if request.param == "tmpfs":
        if not _can_mount():
            pytest.skip("mounting a tmpfs needs root; the rlimit case covers this run")
        with tmpfs(tmp_path / "disk") as mount:
            yield TmpfsDisk(mount)
    else:
        yield FileSizeLimit(tmp_path / "rlimit" / "audit.jsonl")


def create(name: str) -> pb.CreateConnectionRequest:
    return pb.CreateConnectionRequest(connection_name=name, provider_type=pb.PROVIDER_TYPE_GITHUB)


@pytest.mark.parametrize("fsync", ["batch", "always", "never"])
async def test_no_mutation_reaches_aws_while_the_audit_disk_is_full_and_they_resume_after(
    emulator, control, disk, fsync
):
    """Disk full: every create is UNAVAILABLE (AuditUnavailable), none reaches AWS; space back: they work."""
    audit = disk.mount / "audit.jsonl" if isinstance(disk, TmpfsDisk) else disk.audit
    server = await serve(
        *("--backend", "aws", "--aws-endpoint-url", emulator.url, "--listen", "127.0.0.1:0"),
        *("--audit-file", str(audit), "--audit-fsync", fsync),
        env=ENV,
    )
    if isinstance(disk, FileSizeLimit):
        disk.pid = server.proc.pid
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = pb_grpc.ConnectionServiceStub(channel)
            await stub.CreateConnection(create("before-full"))
            disk.fill()
            await until_the_log_is_full(stub)
            await control.clear_requests()
            for i in range(CREATES_WHILE_FULL):
                # A UUID request id too: the idempotent path must fail closed the same way.
                metadata = (("x-request-id", str(uuid.uuid4())),) if i % 2 else ()
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.CreateConnection(create(f"while-full-{i:02d}"), metadata=metadata)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "audit log cannot be written" in caught.value.details()
            assert await control.requests(operation="CreateConnection") == []
            disk.free()
            await stub.CreateConnection(create("after-full"))
            assert len(await control.requests(operation="CreateConnection")) == 1
            connections = await stub.ListConnections(
                pb.ListConnectionsRequest(), metadata=(("x-connfacade-consistent-read", "true"),)
            )
    finally:
        code, _, err = await server.stop()
    assert code == 0, err
    result = verify([audit])
    assert result.ok, result
    assert result.findings == ()  # every intent has its completion, the one refused at first too
    assert result.intents == len(connections.connection_summary_list)  # every change in AWS has its intent


async def until_the_log_is_full(stub: pb_grpc.ConnectionServiceStub) -> None:
    """Creates until one fails: a tmpfs full to the page still fits records in the audit file's last page."""
    for attempt in range(50):
        try:
            await stub.CreateConnection(create(f"filling-{attempt:02d}"))
        except grpc.aio.AioRpcError as err:
            refused = err
            break
    else:
        pytest.fail("the audit log never filled up")
    assert refused.code() == grpc.StatusCode.UNAVAILABLE
