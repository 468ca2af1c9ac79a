"""The emulator's life cycle and constructor settings."""

from __future__ import annotations

import asyncio

import pytest

from connfacade.server.emulator import Emulator, EmulatorControl


async def test_url_is_known_only_while_started() -> None:
    """``url`` names a loopback port once started; stop is idempotent."""
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    await emu.start()
    try:
        assert emu.url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError):
            await emu.start()
    finally:
        await emu.stop()
        await emu.stop()


async def test_account_and_auto_complete_from_constructor(boto_session) -> None:
    """account_id names the owner in ARNs; auto_complete_seconds completes handshakes by itself."""
    async with Emulator(account_id="210987654321", auto_complete_seconds=0) as emu:
        client = boto_session.client("codestar-connections", endpoint_url=emu.url)
        try:
            created = await asyncio.to_thread(
                client.create_connection, ConnectionName="c", ProviderType="GitHub"
            )
            got = (await asyncio.to_thread(client.get_connection, ConnectionArn=created["ConnectionArn"]))[
                "Connection"
            ]
        finally:
            client.close()
        async with EmulatorControl(emu.url) as ctl:
            assert (await ctl.config())["AccountId"] == "210987654321"
    assert created["ConnectionArn"].startswith(
        "arn:aws:codestar-connections:us-east-1:210987654321:connection/"
    )
    assert (got["OwnerAccountId"], got["ConnectionStatus"]) == ("210987654321", "AVAILABLE")
