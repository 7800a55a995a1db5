"""Collection throughput on loopback: parcours serve vs a bare FastAPI endpoint (the ceiling).

The generator is the official Segment client (``segment-analytics-python``) in its own
processes; its CPU time is reported, since it shares the machine's cores with the server.
Then single ``/v1/track`` calls with httpx (2 processes, one call at a time each) and the
latency of single calls and of batches of 250, p50 and p99.
Usage: python benchmarks/bench_service.py [EVENTS] [WORKDIR] [SINGLE_CALLS]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BARE = """
from fastapi import FastAPI, Request
import json
app = FastAPI()
@app.post("/v1/batch")
async def batch(request: Request):
    json.loads(await request.body())
    return {"success": True}
@app.post("/v1/track")
async def track(request: Request):
    json.loads(await request.body())
    return {"success": True}
@app.get("/v1/health")
async def health():
    return {"status": "ok"}
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(f"{url}/v1/health")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _send(url: str, key: str, n: int, offset: int) -> None:
    import segment.analytics as analytics

    client = analytics.Client(write_key=key, host=url, max_queue_size=100_000, upload_size=250)
    for i in range(n):
        client.track(
            f"u{i % 1000}", "Product Viewed", {"sku": f"s{i % 50}"}, message_id=f"m{offset + i}"
        )
    client.flush()
    client.join()


def _run(url: str, key: str, events: int, processes: int = 2) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    per = events // processes
    procs = [mp.Process(target=_send, args=(url, key, per, p * per)) for p in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return per * processes / wall, cpu


def _single_calls(url: str, key: str, n: int, offset: int, out: mp.Queue) -> None:
    latencies = []
    with httpx.Client() as client:
        for i in range(n):
            body = {
                "userId": f"u{i % 1000}",
                "event": "Product Viewed",
                "properties": {"sku": f"s{i % 50}"},
                "messageId": f"single-{offset + i}",
            }
            start = time.perf_counter()
            r = client.post(f"{url}/v1/track", json=body, auth=(key, ""))
            latencies.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
    out.put(latencies)


def _run_single(url: str, key: str, calls: int, processes: int = 2) -> tuple[float, float, list]:
    """Single calls with httpx from ``processes`` processes: calls/s, generator CPU, latencies."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out: mp.Queue = mp.Queue()
    per = calls // processes
    start = time.perf_counter()
    procs = [
        mp.Process(target=_single_calls, args=(url, key, per, p * per, out))
        for p in range(processes)
    ]
    for p in procs:
        p.start()
    latencies = [x for _ in procs for x in out.get()]
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return per * processes / wall, cpu, latencies


def _batch_latencies(url: str, key: str, requests: int, size: int = 250) -> list[float]:
    """Latency of one batch request of ``size`` events, one request at a time."""
    latencies = []
    with httpx.Client() as client:
        for r in range(requests):
            batch = [
                {
                    "type": "track",
                    "userId": f"u{i}",
                    "event": "Product Viewed",
                    "messageId": f"lat-{r}-{i}",
                }
                for i in range(size)
            ]
            start = time.perf_counter()
            answer = client.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""))
            latencies.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text
    return latencies


def _ms(latencies: list[float], q: float) -> str:
    ordered = sorted(latencies)
    return f"{1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]:.1f} ms"


def _measure(url: str, key: str, events: int, calls: int) -> dict:
    rate, cpu = _run(url, key, events)
    single, single_cpu, single_lat = _run_single(url, key, calls)
    return {
        "rate": rate,
        "cpu": cpu,
        "single": single,
        "single_cpu": single_cpu,
        "single_lat": single_lat,
        "batch_lat": _batch_latencies(url, key, 100),
    }


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    work = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp())
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 4_000
    env = {**os.environ}
    ws = work / "bench-ws"
    subprocess.run([sys.executable, "-m", "parcours", "init", str(ws)], check=True, env=env)
    from parcours.api.keys import create_key

    key = create_key(ws, "web", "write")[0]
    (work / "bare_app.py").write_text(BARE)
    results = {}
    for target, cmd, cwd in (
        ("bare", [sys.executable, "-m", "uvicorn", "bare_app:app", "--log-level", "warning"], work),
        ("parcours", [sys.executable, "-m", "parcours", "serve", "-w", str(ws)], None),
    ):
        port = _port()
        proc = subprocess.Popen([*cmd, "--port", str(port)], cwd=cwd, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait(url)
            results[target] = _measure(url, key, events, calls)
        finally:
            proc.terminate()
            proc.wait()
    bare, served = results["bare"], results["parcours"]
    print(f"events: {events}, generator: 2 processes of the official client (batches of 250)")
    for name, r in (("bare FastAPI endpoint", bare), ("parcours serve", served)):
        print(
            f"{name}: batched {r['rate']:,.0f} events/s (generator CPU {r['cpu']:.1f} s); "
            f"single /v1/track calls (httpx, 2 processes, {calls}) {r['single']:,.0f} calls/s "
            f"(generator CPU {r['single_cpu']:.1f} s), latency p50 {_ms(r['single_lat'], 0.5)} "
            f"p99 {_ms(r['single_lat'], 0.99)}; batch of 250 latency "
            f"p50 {_ms(r['batch_lat'], 0.5)} p99 {_ms(r['batch_lat'], 0.99)}"
        )
    print(
        f"parcours / bare: batched {bare['rate'] / served['rate']:.2f}x below, "
        f"single calls {bare['single'] / served['single']:.2f}x below"
    )
    print(f"load average: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
