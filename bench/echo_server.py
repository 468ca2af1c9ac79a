"""The ceiling: a bare grpc.aio server answering every call with the same bytes.

    python bench/echo_server.py PAYLOAD_FILE   # prints "listening on ADDR"

The payload is a serialized ListConnectionsResponse of 20 connections, so the
echo answers exactly what the facade answers, with no work behind it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import grpc

METHOD = "/bench.Echo/Echo"


async def main(payload: bytes, address: str) -> None:
    async def echo(_request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
        return payload

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )  # bytes in, bytes out
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(address)
    await server.start()
    bound = address if address.startswith("unix:") else f"{address.rpartition(':')[0]}:{port}"
    print(f"listening on {bound}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).read_bytes(), sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1:0"))
