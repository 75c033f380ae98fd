"""The baseline: a minimal websocket relay written directly on ``websockets``.

Two clients connect to ``/pair/<n>/<side>``; every text frame one sends is
forwarded to the other. No parsing, no storage, no channel layer: what the
transport costs on this machine, the floor under any chat server.

    python -m bench.load.relay --port 9001
"""

from __future__ import annotations

import argparse
import contextlib

import uvloop
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

pairs: dict[str, dict[str, ServerConnection]] = {}


async def handler(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request else ""
    _empty, _pair, pair, side = ([*path.split("/"), "", "", "", ""])[:4]
    other = "operator" if side == "visitor" else "visitor"
    peers = pairs.setdefault(pair, {})
    peers[side] = connection
    try:
        async for message in connection:
            peer = peers.get(other)
            if peer is not None:
                with contextlib.suppress(ConnectionClosed):
                    await peer.send(message)
    finally:
        if peers.get(side) is connection:
            del peers[side]


async def main(host: str, port: int) -> None:
    async with serve(handler, host, port, max_size=2**16, backlog=4096) as server:
        print(f"relay listening on ws://{host}:{port}/", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        # The event loop the servers run on (uvicorn picks uvloop).
        uvloop.run(main(args.host, args.port))
