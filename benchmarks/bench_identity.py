"""Identity resolution at scale: time, peak memory and accuracy, beside Splink alone.

Generates persons with one record each in a first source and, for a share of them, a second
record in another source with the mess sources make (typos, missing or other email, missing
phone or birth date), ingests them (not timed), then runs in separate processes, so that each
peak RSS is its own:

- parcours: ``parcours resolve`` (identifier graph, Splink matching, guards, keys, golden
  records);
- baseline: Splink alone with the same comparisons, blocking and training, clustered by
  Splink's own connected components at a fixed threshold of 0.99 (no identifier graph,
  no vetoes, no threshold chosen from the data).

    python benchmarks/bench_identity.py --records 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from harness import print_result, run_side, write_section

SOURCES = ("store", "web", "app")
DUPLICATES = 0.2  # share of records that are a second record of a person
SPLINK_THRESHOLD = 0.99  # Splink alone: a fixed threshold, as its tutorials use


def make_records(directory: Path, records: int, seed: int = 7) -> dict[str, Path]:
    from parcours.demo import names
    from parcours.demo.people import POSTAL_CODES

    rng = np.random.default_rng(seed)
    persons = records - int(records * DUPLICATES)
    n_dup = records - persons
    female = rng.random(persons) < 0.5
    first = np.where(
        female,
        rng.choice(names.N_FIRST_F, persons),
        names.N_FIRST_F + rng.choice(len(names.FIRST.names) - names.N_FIRST_F, persons),
    )
    last = rng.choice(len(names.LAST.names), persons, p=names.LAST.weights)
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, persons).astype(
        "timedelta64[D]"
    )
    postal = rng.integers(0, len(POSTAL_CODES), persons)
    number = rng.permutation(10**7)[:persons]
    person_id = np.arange(persons)
    email = pa.array(
        [
            f"{f}.{s}{n}@mail.fr"
            for f, s, n in zip(
                names.FIRST.token.take(pa.array(first)).to_pylist(),
                names.LAST.token.take(pa.array(last)).to_pylist(),
                number,
                strict=True,
            )
        ]
    )
    phone = pa.array([f"+336{n:08d}" for n in number])
    source = rng.integers(0, len(SOURCES), persons)

    def record(idx, src, variant, email_col, phone_col, birth_col, prefix):
        return {
            "person_id": pa.array(person_id[idx]),
            "source_name": pa.array(np.array(SOURCES)[src]),
            "source_id": pa.array([f"{prefix}{i}" for i in idx]),
            "email": email_col,
            "phone": phone_col,
            "first_name": names.FIRST.spell(first[idx]),
            "last_name": names.LAST.spell(last[idx], variant),
            "birth_date": birth_col,
            "postal_code": POSTAL_CODES.take(pa.array(postal[idx])),
        }

    everyone = np.arange(persons)
    main = record(everyone, source, 0, email, phone, pa.array(birth), "p")
    dup = np.sort(rng.choice(persons, n_dup, replace=False))
    other_src = (source[dup] + rng.integers(1, len(SOURCES), n_dup)) % len(SOURCES)
    u = rng.random(n_dup)
    dup_email = email.take(pa.array(dup)).to_pylist()
    dup_email = [
        None if x < 0.3 else (e.replace("@", "2@") if x < 0.5 else e)
        for e, x in zip(dup_email, u, strict=True)
    ]
    dup_phone = [
        None if x < 0.4 else p
        for p, x in zip(phone.take(pa.array(dup)).to_pylist(), rng.random(n_dup), strict=True)
    ]
    dup_birth = pa.array(np.where(rng.random(n_dup) < 0.5, np.datetime64("NaT"), birth[dup]))
    variant = np.where(rng.random(n_dup) < 0.05, 1, 0)
    second = record(
        dup, other_src, variant, pa.array(dup_email), pa.array(dup_phone), dup_birth, "d"
    )
    table = pa.concat_tables([pa.table(main), pa.table(second)])
    files = {}
    for s in SOURCES:
        part = table.filter(pa.compute.equal(table["source_name"], s))
        files[s] = directory / f"{s}.parquet"
        pq.write_table(part.drop(["person_id", "source_name"]), files[s])
    pq.write_table(
        table.select(["source_name", "source_id", "person_id"]), directory / "truth.parquet"
    )
    return files


def accuracy(found: pa.Table, truth_path: Path) -> dict:

    truth = pq.read_table(truth_path).to_pandas().rename(columns={"source_name": "source"})
    j = found.to_pandas().merge(truth, on=["source", "source_id"])

    def pairs(by):
        n = j.groupby(by).size()
        return int((n * (n - 1) // 2).sum())

    both = pairs(["cluster", "person_id"])
    return {"precision": both / max(pairs(["cluster"]), 1), "recall": both / pairs(["person_id"])}


def run_parcours(ws_dir: Path, truth: Path) -> dict:
    from parcours.identity import resolve
    from parcours.workspace import Workspace

    ws = Workspace.open(ws_dir)
    start = time.perf_counter()
    summary = resolve(ws)
    seconds = time.perf_counter() - start
    m = ws.engine.to_pyarrow(
        ws.engine.table("identity_map").select("source", "source_id", cluster="customer_key")
    )
    ws.close()
    return {"seconds": seconds, "persons": summary.persons, **accuracy(m, truth)}


def run_splink(ws_dir: Path, truth: Path) -> dict:
    import logging

    from splink import Linker

    from parcours.identity import matching
    from parcours.identity.records import matching_records
    from parcours.workspace import Workspace

    ws = Workspace.open(ws_dir)
    start = time.perf_counter()
    ws.engine.write("bench_records", matching_records(ws.engine.table("customers")), stage="bench")
    records = ws.engine.table("bench_records")
    n = int(ws.engine.execute(records.count()))
    present = matching.present_columns(ws.engine, records)
    rules = matching.chosen_rules(ws.engine, records, present, n)
    db_api = matching._db_api()
    frame = matching._register(db_api, ws.engine, records, "records")
    linker = Linker(frame, matching._settings(present, rules), log_level=logging.ERROR)
    matching._train(linker, ws.engine, records, present, matching.MatchReport())
    threshold = SPLINK_THRESHOLD
    pairs = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, threshold)
    found = clusters.as_pandas_dataframe()
    seconds = time.perf_counter() - start
    found["source"] = found["rid"].str.split(":").str[0]
    found["source_id"] = found["rid"].str.split(":", n=1).str[1]
    table = pa.Table.from_pandas(
        found[["source", "source_id", "cluster_id"]].rename(columns={"cluster_id": "cluster"})
    )
    ws.close()
    return {
        "seconds": seconds,
        "persons": int(found.cluster_id.nunique()),
        **accuracy(table, truth),
    }


def child(which: str, ws_dir: Path, truth: Path) -> None:
    result = {"parcours": run_parcours, "splink": run_splink}[which](ws_dir, truth)
    print_result(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--child", choices=["parcours", "splink"])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--truth", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workspace, args.truth)
        return
    from parcours.ingest import ingest_files
    from parcours.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = make_records(tmp, args.records)
        results = {}
        for which in ("parcours", "splink"):
            ws_dir = tmp / which
            with Workspace.init(ws_dir) as ws:
                for source, path in files.items():
                    ingest_files(ws, "customers", [path], source=source)
            results[which] = run_side(
                __file__, which, "--workspace", str(ws_dir), "--truth", str(tmp / "truth.parquet")
            )
    title = "## Identity resolution:"
    lines = [
        f"{title} {args.records:,} customer records, "
        f"{DUPLICATES:.0%} second records of a person in another source",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}; load average "
        f"{os.getloadavg()[0]:.1f} at the end. Target: under 3 minutes and 6 GiB.",
        "",
        "| implementation | time (s) | peak RSS (MiB) | persons | pairwise precision "
        "| pairwise recall |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for which, r in results.items():
        label = {"parcours": "parcours resolve", "splink": "Splink alone (baseline)"}[which]
        lines.append(
            f"| {label} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | {r['persons']:,} | "
            f"{r['precision']:.4f} | {r['recall']:.4f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    write_section(title, text)


if __name__ == "__main__":
    main()
