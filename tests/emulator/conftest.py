"""Fixtures for the emulator tests: a real emulator on port 0, driven by real AWS clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from aiobotocore.session import AioSession

    from connfacade.server.emulator import Emulator

REGION = "us-east-1"
ACCESS_KEY, SECRET_KEY = "AKIDEMULATORTEST", "emulator-test-secret"
# One attempt: tests must see each answer (or injected fault), not a retry of it.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One boto3 session for all tests: its loader parses each service model once.

    The root conftest strips AWS_* for the whole run, so it reads no ambient setting.
    """
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )


class SyncClient:
    """A boto3 client whose calls run in a thread, so the emulator's loop keeps serving."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        method = getattr(self.client, name)

        async def call(**kwargs: Any) -> dict[str, Any]:
            return await asyncio.to_thread(method, **kwargs)

        return call


@pytest.fixture
def boto(emulator: Emulator, boto_session: boto3.session.Session) -> Iterator[Callable[..., SyncClient]]:
    """Factory of boto3 clients pointed at the emulator: ``boto("apprunner", region=...)``."""
    made: list[Any] = []

    def make(service: str, region: str = REGION, config: Config = NO_RETRIES) -> SyncClient:
        client = boto_session.client(service, region_name=region, endpoint_url=emulator.url, config=config)
        made.append(client)
        return SyncClient(client)

    yield make
    for client in made:
        client.close()


@pytest.fixture
async def apprunner(boto: Callable[..., SyncClient]) -> SyncClient:
    return boto("apprunner")


@pytest.fixture
async def codestar(boto: Callable[..., SyncClient]) -> SyncClient:
    return boto("codestar-connections")


@pytest.fixture
async def aio(emulator: Emulator, aws_session: AioSession) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Factory of aiobotocore clients (the run's session) pointed at the emulator, closed after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(service: str, region: str = REGION) -> Any:
            return await stack.enter_async_context(
                aws_session.create_client(
                    service,
                    region_name=region,
                    endpoint_url=emulator.url,
                    aws_access_key_id=ACCESS_KEY,
                    aws_secret_access_key=SECRET_KEY,
                    config=NO_RETRIES,
                )
            )

        yield make


@pytest.fixture
def aws_cli(emulator: Emulator) -> Callable[..., Awaitable[tuple[int, Any, str]]]:
    """Run the AWS CLI against the emulator; returns (exit code, parsed JSON stdout or None, stderr)."""

    async def run(*args: str, sign: bool = True) -> tuple[int, Any, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_MAX_ATTEMPTS": "1",
        }
        extra = () if sign else ("--no-sign-request",)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "awscli",
            *args,
            "--endpoint-url",
            emulator.url,
            "--output",
            "json",
            *extra,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, json.loads(out) if out.strip() else None, err.decode()

    return run
