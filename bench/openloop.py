"""A fixed-rate (open-loop) HTTP/1.1 load generator for latency at a given request rate.

wrk is closed-loop: it measures throughput well but hides queueing ("coordinated omission"). Here request
k is *due* at ``t0 + k / rate`` whatever happened before; its latency is measured from that due time to the
last byte of the answer, so a stall shows up in every request that waited behind it. The service time
(actual send to answer) is reported too. Keep-alive connections are reused; the scheduler spins for the
last 1.5 ms before each due time because event-loop timers are only millisecond-accurate.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class Sample:
    due: float
    sent: float
    done: float
    status: int


def raw_request(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _worker(
    host: str, port: int, queue: asyncio.Queue[tuple[bytes, float] | None], out: list[Sample]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (item := await queue.get()) is not None:
            request, due = item
            sent = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            out.append(Sample(due, sent, time.perf_counter(), status))
    finally:
        writer.close()


async def fixed_rate(
    host: str, port: int, requests: list[bytes], rate: float, seconds: float, connections: int = 8
) -> list[Sample]:
    """Send ``rate`` requests per second for ``seconds``, cycling through ``requests``."""
    queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()
    samples: list[Sample] = []
    workers = [asyncio.create_task(_worker(host, port, queue, samples)) for _ in range(connections)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    total = int(rate * seconds)
    start = time.perf_counter() + 0.01
    for k in range(total):
        due = start + k / rate
        while (left := due - time.perf_counter()) > 0:
            await asyncio.sleep(left - 0.0015 if left > 0.002 else 0)
        queue.put_nowait((requests[k % len(requests)], due))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return samples


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def summarise(samples: list[Sample], rate: float, warmup: float = 1.0) -> dict[str, float]:
    """Percentiles in milliseconds, after dropping the first ``warmup`` seconds."""
    if not samples:
        return {}
    t0 = min(s.due for s in samples)
    kept = [s for s in samples if s.due - t0 >= warmup]
    response = sorted((s.done - s.due) * 1000 for s in kept)
    service = sorted((s.done - s.sent) * 1000 for s in kept)
    span = max(s.done for s in kept) - min(s.due for s in kept)
    out: dict[str, float] = {
        "target_rate": rate,
        "achieved_rate": round(len(kept) / span, 1),
        "requests": len(kept),
        "non_2xx": sum(1 for s in kept if not 200 <= s.status < 300),
        # requests the generator itself sent > 1 ms late: the client was frozen too (machine-level stall)
        "sent_late_over_1ms": sum(1 for s in kept if s.sent - s.due > 0.001),
    }
    for p in (50, 90, 99, 99.9):
        out[f"p{p:g}_ms"] = round(percentile(response, p), 3)
        out[f"service_p{p:g}_ms"] = round(percentile(service, p), 3)
    out["max_ms"] = round(response[-1], 3)
    return out


def run(
    host: str, port: int, requests: list[bytes], rate: float, seconds: float, connections: int = 8
) -> dict[str, float]:
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        runner = asyncio.run
    samples = runner(fixed_rate(host, port, requests, rate, seconds, connections))
    return summarise(samples, rate)
