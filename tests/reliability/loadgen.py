"""A bounded load generator on loopback: fixed request count, fixed deadline, keep-alive clients."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

# A request: (label, method, path, body bytes or None, headers)
Request = tuple[str, str, str, bytes | None, dict[str, str]]


@dataclass
class LoadResult:
    """Counts and latencies per label."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=dict)
    connection_errors: int = 0
    elapsed: float = 0.0
    acked: list[Any] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Requests, errors and latency percentiles per label, in milliseconds."""
        out: dict[str, Any] = {"elapsed_s": round(self.elapsed, 3), "connection_errors": self.connection_errors}
        total = 0
        for label, lat in sorted(self.latencies.items()):
            lat_sorted = sorted(lat)
            total += len(lat)
            out[label] = {
                "requests": len(lat),
                "statuses": dict(self.statuses[label]),
                "errors_5xx": sum(n for s, n in self.statuses[label].items() if s >= 500),
                "p50_ms": round(1000 * statistics.median(lat_sorted), 2) if lat else None,
                "p99_ms": round(1000 * lat_sorted[min(len(lat) - 1, int(len(lat) * 0.99))], 2) if lat else None,
            }
        out["requests"] = total
        out["throughput_rps"] = round(total / self.elapsed, 1) if self.elapsed else None
        return out


def run_load(base: str, make_request: Callable[[int], Request], *, count: int, concurrency: int,
             deadline_s: float, on_ok: Callable[[Request, bytes], Any] | None = None) -> LoadResult:
    """Send ``count`` requests from ``concurrency`` keep-alive clients, stopping at the deadline."""
    url = urlparse(base)
    result = LoadResult()
    lock = threading.Lock()
    next_i = iter(range(count))
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        while time.monotonic() < stop_at:
            with lock:
                i = next(next_i, None)
            if i is None:
                break
            req = make_request(i)
            label, method, path, body, headers = req
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                with lock:
                    result.connection_errors += 1
                continue
            dt = time.perf_counter() - t0
            with lock:
                result.latencies.setdefault(label, []).append(dt)
                result.statuses.setdefault(label, Counter())[status] += 1
                if on_ok and 200 <= status < 300:
                    acked = on_ok(req, data)
                    if acked is not None:
                        result.acked.append(acked)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline_s + 60)
    result.elapsed = time.perf_counter() - t0
    return result


def json_request(label: str, method: str, path: str, payload: Any, key: str | None = None) -> Request:
    """A JSON request tuple."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return label, method, path, json.dumps(payload).encode(), headers
