"""A tiny raw-socket HTTP client: slow and oversized clients are exactly what ordinary HTTP clients refuse to be."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def _parse(data: bytes) -> RawResponse | None:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        return None
    return RawResponse(int(lines[0].split()[1]), headers, rest[:length])


def raw_exchange(
    port: int, head: bytes, chunks: Iterable[bytes] = (), pause: float = 0.0, timeout: float = 15.0
) -> RawResponse:
    """Send ``head``, then each chunk with ``pause`` between them, stopping as soon as an answer arrives."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head)
        received = b""
        for chunk in chunks:
            if select.select([sock], [], [], pause)[0]:
                break  # the server answered (or closed) before we finished sending
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            parsed = _parse(received)
            if parsed is not None:
                return parsed
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                break
            received += data
        parsed = _parse(received)
        assert parsed is not None, f"no complete HTTP response, got {received[:200]!r}"
        return parsed
