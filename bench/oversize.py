"""Time to a 413 and memory cost of oversized bodies, against a running bridge (raw sockets).

* declared: ``Content-Length`` far above the limit, no body sent: time from the end of the headers to
  the complete 413 answer;
* chunked: no ``Content-Length``; 64 KiB chunks up to exactly the limit, a 20 ms pause so the server has
  read them, then a 1 KiB chunk that crosses the limit: time from sending it to the complete 413 answer.

Memory: the server's VmRSS before and after, and its VmHWM (peak) after.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

PATH = "/api/webhooks/freescout/support"


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def _head(extra: str) -> bytes:
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-FreeScout-Event: convo.created\r\nX-FreeScout-Signature: x\r\n{extra}\r\n"
    ).encode()


def _read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]) if data else 0


def declared(port: int, size: int) -> tuple[float, int]:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = _head(f"Content-Length: {size}\r\n")
        sock.sendall(head)
        t0 = time.perf_counter()
        status = _read_status(sock)
        return (time.perf_counter() - t0) * 1000, status


def chunked(port: int, limit: int, chunk: int = 64 * 1024) -> tuple[float, int]:
    """Fill the body up to the limit, let the server drain it, then time the chunk that crosses it."""
    piece = b"%x\r\n" % chunk + b"x" * chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_head("Transfer-Encoding: chunked\r\n"))
        for _ in range(limit // chunk):
            sock.sendall(piece)
        time.sleep(0.02)  # the server reads what is buffered; it is still under the limit and waits
        t0 = time.perf_counter()
        sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")  # 1 KiB more: now over the limit
        status = _read_status(sock)
        return (time.perf_counter() - t0) * 1000, status


def measure(port: int, pid: int, limit: int, repeats: int = 200) -> dict[str, object]:
    declared(port, limit * 100)  # warm-up
    chunked(port, limit)
    before = proc_status(pid)
    results: dict[str, object] = {}
    for name, call in (
        ("declared", lambda: declared(port, limit * 100)),
        ("chunked", lambda: chunked(port, limit)),
    ):
        times, statuses = [], set()
        for _ in range(repeats):
            ms, status = call()
            times.append(ms)
            statuses.add(status)
        times.sort()
        results[name] = {
            "requests": repeats,
            "statuses": sorted(statuses),
            "p50_ms": round(times[len(times) // 2], 3),
            "p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
            "max_ms": round(times[-1], 3),
        }
    after = proc_status(pid)
    results["rss_before_kb"] = before["VmRSS"]
    results["rss_after_kb"] = after["VmRSS"]
    results["rss_growth_kb"] = after["VmRSS"] - before["VmRSS"]
    results["hwm_before_kb"] = before["VmHWM"]
    results["hwm_after_kb"] = after["VmHWM"]
    results["limit_bytes"] = limit
    return results
