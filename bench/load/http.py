"""A minimal asyncio HTTP/1.1 client: one request per connection.

The benchmark opens thousands of conversations at once; the standard
library's clients are blocking, and no async HTTP client is a dependency of
the project. Requests here are small JSON bodies to our own server on
loopback, so ``Connection: close`` and reading to the end is enough.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


async def request(
    base_url: str,
    method: str,
    path: str,
    payload: Any = None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, Any]:
    """``(status, decoded JSON body or None)``."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = b"" if payload is None and method == "GET" else json.dumps(payload or {}).encode()
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: close",
        "Accept: application/json",
        f"Origin: {base_url}",
        "User-Agent: onthaal-bench/1",
    ]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(raw)
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
    head, _sep, content = response.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise HttpError(f"no HTTP answer from {base_url}{path}: {response[:200]!r}") from exc
    if b"transfer-encoding: chunked" in head.lower():
        content = _unchunk(content)
    try:
        return status, json.loads(content) if content else None
    except ValueError:
        return status, content.decode(errors="replace")


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _sep, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)
