"""Near real time: delay from a 200 on an order to the updated profile, at the demo's size.

On a copy of a demo workspace (``parcours demo``, already run), ``parcours serve`` runs with
the default config; for each sample an ``Order Completed`` of a known customer is posted,
then ``GET /v1/profiles/{key}`` is polled until the profile counts it. Baseline in the same
run: ``parcours resolve``, ``profile`` and ``segments`` over the same workspace, what the
update would cost without the incremental path.
Usage: python benchmarks/bench_live.py DEMO_WORKSPACE [SAMPLES]
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import write_section

TITLE = "## Service: near real time (`benchmarks/bench_live.py`)"
# The stages whose tables a live update changes: the way to the same result without it.
BASELINE = ("resolve", "profile", "segments")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _persons(ws: Path, n: int) -> list[tuple[str, str, str]]:
    """(source, source_id, customer_key) of buyers with one web record, from the workspace."""
    from parcours.engine import Engine
    from parcours.workspace import Workspace

    w = Workspace.open(ws)
    engine = Engine.connect(w.config, w.dir, read_only=True)
    try:
        rows = engine.query(
            "select m.source, m.source_id, m.customer_key from identity_map m "
            "join customer_profile p using (customer_key) "
            "where m.source = 'web' and p.orders > 0 order by hash(m.customer_key) "
            f"limit {n}"
        ).to_pylist()
    finally:
        engine.close()
    return [(r["source"], r["source_id"], r["customer_key"]) for r in rows]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    demo = Path(sys.argv[1])
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    work = Path(tempfile.mkdtemp(prefix="bench-live-"))
    ws = work / "ws"
    shutil.copytree(demo, ws, ignore=shutil.ignore_patterns("*.lock", "*.snapshot"))
    size_mb = (ws / "parcours.duckdb").stat().st_size / 1e6
    from parcours.api.keys import create_key

    write = create_key(ws, "web", "write")[0]
    read = create_key(ws, "web", "read")[0]
    persons = _persons(ws, samples)
    port = _port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "parcours", "serve", "--port", str(port), "-w", str(ws)]
    server = subprocess.Popen(cmd, env=os.environ)
    delays = []
    auth = {"Authorization": f"Bearer {read}"}
    rng = random.Random(7)
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/v1/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(timeout=120) as client:
            for i, (_, sid, key) in enumerate(persons):
                before = client.get(f"{url}/v1/profiles/{key}", headers=auth).json()
                orders = before["profile"]["orders"]
                time.sleep(rng.uniform(0, 2))  # any phase of the loader's interval
                order = {
                    "type": "track",
                    "userId": sid,
                    "event": "Order Completed",
                    "messageId": f"live-{i}",
                    "properties": {"order_id": f"live-{i}", "total": 42.0},
                }
                r = client.post(f"{url}/v1/batch", json={"batch": [order]}, auth=(write, ""))
                assert r.status_code == 200, r.text
                acked = time.perf_counter()
                while True:
                    p = client.get(f"{url}/v1/profiles/{key}", headers=auth).json()["profile"]
                    if p["orders"] == orders + 1:
                        break
                    time.sleep(0.05)
                delays.append(time.perf_counter() - acked)
    finally:
        server.terminate()
        server.wait()
    start = time.perf_counter()
    for stage in BASELINE:
        done = subprocess.run(
            [sys.executable, "-m", "parcours", stage, "-w", str(ws)],
            capture_output=True,
            env=os.environ,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    full_run = time.perf_counter() - start
    start = time.perf_counter()
    shutil.copyfile(ws / "parcours.duckdb", work / "copy.duckdb")
    copy = time.perf_counter() - start
    shutil.rmtree(work)
    text = "\n".join(
        [
            TITLE,
            "",
            f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, load average "
            f"{open('/proc/loadavg').read().split()[0]} at the end. Workspace: a demo of "
            f"{size_mb:.0f} MB; loader interval 2 s (default). Target: p95 under 5 s.",
            "",
            "| measure | seconds |",
            "| --- | --- |",
            f"| delay from a 200 to the updated profile, p50 ({len(delays)} orders) | "
            f"{_percentile(delays, 0.5):.2f} |",
            f"| same, p95 | {_percentile(delays, 0.95):.2f} |",
            f"| same, max | {max(delays):.2f} |",
            f"| baseline: parcours {', '.join(BASELINE)} | {full_run:.1f} |",
            f"| read snapshot: copy of the database | {copy:.2f} |",
        ]
    )
    print(text)
    write_section(TITLE, text)


if __name__ == "__main__":
    main()
