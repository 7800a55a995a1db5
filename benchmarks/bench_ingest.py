"""Ingest a large French-style orders CSV: time and peak memory, beside a pandas baseline.

The file is generated (never committed). parcours streams it block by block; the baseline is
what people write by hand: pandas.read_csv of the whole file, then the same type conversions.
Each side runs in its own process so that peak RSS is its own.

    python benchmarks/bench_ingest.py --lines 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def make_file(path: Path, lines: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    with path.open("w", encoding="cp1252") as f:
        f.write("NUM_TICKET;ID_CLIENT;DATE_HEURE;CANAL;MONTANT_TTC;STATUT\n")
        for start in range(0, lines, chunk):
            n = min(chunk, lines - start)
            ids = np.arange(start, start + n)
            customers = rng.integers(0, lines // 10 + 1, n)
            days = rng.integers(1, 29, n)
            months = rng.integers(1, 13, n)
            amounts = rng.gamma(2.0, 30.0, n).round(2)
            rows = [
                f"T{i};C{c};{d:02d}/{m:02d}/2025 10:{i % 60:02d};MAG;"
                f"{str(a).replace('.', ',')};VALIDE"
                for i, c, d, m, a in zip(ids, customers, days, months, amounts, strict=True)
            ]
            f.write("\n".join(rows) + "\n")


def run_parcours(path: Path) -> dict:
    from parcours.ingest import ingest_files
    from parcours.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(
            Path(tmp) / "ws",
            sources={
                "store": {
                    "date_format": "%d/%m/%Y %H:%M",
                    "tables": {
                        "orders": {
                            "rename": {
                                "NUM_TICKET": "order_id",
                                "ID_CLIENT": "customer_id",
                                "DATE_HEURE": "ordered_at",
                                "CANAL": "channel",
                                "MONTANT_TTC": "total_amount",
                                "STATUT": "status",
                            },
                            "values": {
                                "channel": {"MAG": "store"},
                                "status": {"VALIDE": "completed"},
                            },
                        }
                    },
                }
            },
        )
        start = time.perf_counter()
        (summary,) = ingest_files(ws, "orders", [path], source="store").files
        seconds = time.perf_counter() - start
        ws.close()
    return {"seconds": seconds, "rows": summary.loaded, "quarantined": summary.quarantined}


def run_pandas(path: Path) -> dict:
    import pandas as pd

    start = time.perf_counter()
    df = pd.read_csv(path, sep=";", encoding="cp1252", decimal=",", dtype=str)
    df["ordered_at"] = pd.to_datetime(df["DATE_HEURE"], format="%d/%m/%Y %H:%M", errors="coerce")
    df["total_amount"] = pd.to_numeric(df["MONTANT_TTC"].str.replace(",", "."), errors="coerce")
    bad = df["ordered_at"].isna() | df["total_amount"].isna() | (df["total_amount"] < 0)
    good = df[~bad].drop_duplicates("NUM_TICKET", keep="last")
    return {
        "seconds": time.perf_counter() - start,
        "rows": len(good),
        "quarantined": int(bad.sum()),
    }


def child(which: str, path: Path) -> None:
    result = {"parcours": run_parcours, "pandas": run_pandas}[which](path)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--child", choices=["parcours", "pandas"])
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.csv"
        make_file(path, args.lines)
        size_mib = path.stat().st_size / 2**20
        results = {}
        for which in ("parcours", "pandas"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", which, "--file", str(path)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[which] = json.loads(out.strip().splitlines()[-1])
    lines = [
        f"## Ingestion: {args.lines:,} orders lines, French CSV ({size_mib:,.0f} MiB)",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| implementation | time (s) | peak RSS (MiB) | rows loaded |",
        "| --- | --- | --- | --- |",
    ]
    for which, r in results.items():
        lines.append(f"| {which} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | {r['rows']:,} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with (HERE / "RESULTS.md").open("a") as f:
        f.write("\n" + text)


if __name__ == "__main__":
    main()
