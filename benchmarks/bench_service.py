"""Collection throughput on loopback: parcours serve vs a bare FastAPI endpoint (the ceiling).

The generator is the official Segment client (``segment-analytics-python``) in its own
processes; its CPU time is reported, since it shares the machine's cores with the server.
Usage: python benchmarks/bench_service.py [EVENTS] [WORKDIR]
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


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    work = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp())
    env = {**os.environ}
    ws = work / "bench-ws"
    subprocess.run([sys.executable, "-m", "parcours", "init", str(ws)], check=True, env=env)
    from parcours.api.keys import create_key

    key = create_key(ws, "web", "write")[0]
    (work / "bare_app.py").write_text(BARE)
    port = _port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=work,
        env=env,
    )
    try:
        _wait(f"http://127.0.0.1:{port}")
        bare_rate, bare_cpu = _run(f"http://127.0.0.1:{port}", key, events)
    finally:
        bare.terminate()
        bare.wait()
    port = _port()
    served = subprocess.Popen(
        [sys.executable, "-m", "parcours", "serve", "--port", str(port), "-w", str(ws)], env=env
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url)
        rate, cpu = _run(url, key, events)
    finally:
        served.terminate()
        served.wait()
    print(f"events: {events}, generator: 2 processes of the official client (batches of 250)")
    print(f"bare FastAPI endpoint: {bare_rate:,.0f} events/s (generator CPU {bare_cpu:.1f} s)")
    print(
        f"parcours serve /v1/batch (fsync per request): {rate:,.0f} events/s "
        f"(generator CPU {cpu:.1f} s), {bare_rate / rate:.2f}x below the bare endpoint"
    )
    print(f"load average: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
