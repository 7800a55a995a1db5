"""Benchmark parcours.models against lifetimes 0.11.3 (BG/NBD and Gamma-Gamma fits).

Cases, each fitted by both libraries on the same arrays:

1. CDNOW (Fader & Hardie's 2357-customer sample; 946 repeat buyers for Gamma-Gamma);
2. 1,000,000 customers drawn from a BG/NBD process with known parameters (times in days,
   summarised at day resolution as ``rfm_summary`` does), raw rows for both libraries;
3. the same customers collapsed to distinct (frequency, recency, T) rows with counts, passed
   as ``weights`` to both libraries, so the comparison does not rest on collapsing alone;
4. 1,000,000 customers with continuous times (nearly every row distinct: worst case for us);
5. Gamma-Gamma on the repeat buyers of case 2, mean spends drawn from the model.

Every (case, library) runs in a fresh worker process that rebuilds the data from the seed, so
one library's allocations cannot slow the other down. Wall time is the median over repeats
after a warm-up; peak memory is the largest traced allocation (``tracemalloc``, which NumPy
reports its buffers to) during one extra untimed fit. The parent evaluates the log-likelihood
of both parameter sets with the same function, checked against lifetimes' own on CDNOW.

Run: ``.venv/bin/python benchmarks/bench_models.py`` (about 3-4 minutes on 2 cores); it
writes ``benchmarks/RESULTS_models.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

from parcours.models import BetaGeoModel, GammaGammaModel, simulate_bgnbd
from parcours.models._estimator import collapse_rows
from parcours.models.gammagamma import _log_likelihood as gg_log_likelihood
from parcours.models.gammagamma import _SpendData

TRUE_BGNBD = {"r": 0.25, "alpha": 40.0, "a": 0.8, "b": 2.5}  # alpha in days
TRUE_GG = {"p": 6.0, "q": 4.0, "v": 20.0}
RESULTS = Path(__file__).with_name("RESULTS_models.md")
LIBRARIES = ("parcours", "lifetimes", "lifetimes (no Hessian)")


def import_lifetimes():
    """Import lifetimes 0.11.3 as shipped.

    With pandas 3 / numpy 2 / scipy 1.17 it imports and fits unpatched; it only warns
    (pandas' deprecated ``mode.chained_assignment`` option, autograd FutureWarnings), so the
    warnings are silenced. Should an alias it relies on disappear, restore it here (for
    example ``np.float = float``) before the import, and say so in the results.
    """
    warnings.filterwarnings("ignore", module="lifetimes")
    warnings.filterwarnings("ignore", module="autograd")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*chained_assignment.*")
    import lifetimes
    import lifetimes.fitters

    return lifetimes


# -- data -----------------------------------------------------------------------------------


def cdnow() -> pd.DataFrame:
    folder = Path(next(iter(importlib.util.find_spec("lifetimes").submodule_search_locations)))
    return pd.read_csv(folder / "datasets" / "cdnow_customers_summary_with_transactions.csv")


def synthetic(n: int, seed: int, day_level: bool):
    rng = np.random.default_rng(seed)
    age = rng.integers(1, 731, n).astype(float)
    data = simulate_bgnbd(n, age, **TRUE_BGNBD, seed=rng)
    x, tx = data["frequency"], data["recency"]
    if day_level:
        # Purchase days: a repeat purchase is at least one day after the first one.
        tx = np.where(x > 0, np.minimum(np.ceil(tx), age), 0.0)
    return x, tx, age


def synthetic_spend(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    repeat = x > 0
    nu = rng.gamma(TRUE_GG["q"], 1.0 / TRUE_GG["v"], size=len(x))
    spend = np.zeros(len(x))
    spend[repeat] = rng.gamma(TRUE_GG["p"] * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return spend


def case_data(case: str, n: int, seed: int) -> dict:
    """Arrays of a case: kind (bgnbd|gg), x, tx, age or spend, and optional weights."""
    if case == "cdnow":
        d = cdnow()
        return {
            "kind": "bgnbd",
            "x": d["x"].to_numpy(float),
            "tx": d["t_x"].to_numpy(float),
            "age": d["T"].to_numpy(float),
        }
    if case == "cdnow-gg":
        d = cdnow()
        repeat = d["x"] > 0
        return {
            "kind": "gg",
            "x": d["x"][repeat].to_numpy(float),
            "m": d["zbar"][repeat].to_numpy(float),
        }
    if case in ("days", "collapsed"):
        x, tx, age = synthetic(n, seed, day_level=True)
        if case == "collapsed":
            (x, tx, age), w = collapse_rows([x, tx, age], np.ones(n))
            return {"kind": "bgnbd", "x": x, "tx": tx, "age": age, "weights": w}
        return {"kind": "bgnbd", "x": x, "tx": tx, "age": age}
    if case == "continuous":
        x, tx, age = synthetic(n, seed + 1, day_level=False)
        return {"kind": "bgnbd", "x": x, "tx": tx, "age": age}
    if case == "days-gg":
        x, _, _ = synthetic(n, seed, day_level=True)
        spend = synthetic_spend(x, seed + 2)
        repeat = x > 0
        return {"kind": "gg", "x": x[repeat], "m": spend[repeat]}
    raise ValueError(case)


# -- worker: one library on one case, in its own process -------------------------------------


def worker(case: str, library: str, n: int, seed: int, repeats: int) -> dict:
    data = case_data(case, n, seed)
    lifetimes = import_lifetimes() if library != "parcours" else None
    if library == "lifetimes (no Hessian)":
        # lifetimes' fit() ends with an autograd Hessian for standard errors; replace it by
        # the identity so that only the optimisation is timed.
        lifetimes.fitters.hessian = lambda function: lambda x, *args: np.eye(len(x))

    if data["kind"] == "bgnbd":
        args, kwargs = (data["x"], data["tx"], data["age"]), {"weights": data.get("weights")}
        model = BetaGeoModel if library == "parcours" else lifetimes.BetaGeoFitter
    else:
        args, kwargs = (data["x"], data["m"]), {}
        model = GammaGammaModel if library == "parcours" else lifetimes.GammaGammaFitter

    def fit():
        return model().fit(*args, **kwargs)

    fit()  # warm-up: imports, first-call allocations
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fitted = fit()
        times.append(time.perf_counter() - start)
    result = {
        "seconds": statistics.median(times),
        "params": {k: float(v) for k, v in dict(fitted.params_).items()},
    }
    if library != "lifetimes (no Hessian)":
        tracemalloc.start()
        fit()
        result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    if case == "cdnow" and library == "lifetimes":
        # lifetimes' own objective: mean negative LL on times scaled by fitted._scale.
        x = data["x"]
        own = -fitted._negative_log_likelihood_ * len(x) + x.sum() * np.log(fitted._scale)
        result["own_log_likelihood"] = float(own)
    return result


def run_worker(case: str, library: str, args, repeats: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        case,
        library,
        "--customers",
        str(args.customers),
        "--seed",
        str(args.seed),
        "--repeats",
        str(repeats),
    ]
    # One BLAS thread for both libraries: their optimisers make many tiny BLAS calls, which a
    # threaded OpenBLAS slows down badly on a busy 2-core machine. parcours limits BLAS
    # itself while fitting (through threadpoolctl); this gives lifetimes the same footing.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------------


@dataclass
class Run:
    case: str
    library: str
    customers: int
    rows: int
    seconds: float
    log_likelihood: float
    peak_mib: float
    params: dict[str, float]


def log_likelihood(data: dict, params: dict[str, float]) -> float:
    if data["kind"] == "bgnbd":
        model = BetaGeoModel()
        w = data.get("weights")
        w = np.ones(len(data["x"])) if w is None else w
        patterns = model._patterns(data["x"], data["tx"], data["age"], w)
        return model._log_likelihood(
            np.array([params[k] for k in "r alpha a b".split()]), patterns
        )[0]
    spend = _SpendData.build(data["x"], data["m"], np.ones(len(data["x"])))
    return gg_log_likelihood(np.array([params[k] for k in "p q v".split()]), spend)[0]


def machine() -> str:
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in run("lscpu").splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in run("free", "-g").splitlines() if line.startswith("Mem")), "?"
    )
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{run('nproc').strip()} cores (nproc), {model} (KVM guest), {memory} GiB RAM; load "
        f"average at start {load} (shared VM: another developer's jobs may run alongside)"
    )


def fmt_params(params: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items())


def write_results(runs: list[Run], notes: list[str], header: dict) -> None:
    ours = {r.case: r for r in runs if r.library == "parcours"}
    headline = [
        f"- {case}: parcours {ours[case].seconds:.3f} s, "
        + ", ".join(
            f"{r.library} {r.seconds / ours[case].seconds:.1f}× slower"
            for r in runs
            if r.case == case and r.library != "parcours"
        )
        for case in ours
    ]
    lines = [
        "# Customer-base models: parcours vs lifetimes 0.11.3",
        "",
        f"- Date: {header['date']}",
        f"- Machine: {header['machine']}",
        f"- Software: {header['software']}",
        f"- Command: `{header['command']}` ({header['elapsed']} in total)",
        "- Time: median wall time of `fit` (input checks and collapsing included) over "
        f"{header['repeats']}, after a warm-up, each library in a fresh process with "
        "OPENBLAS_NUM_THREADS=1.",
        "- Log-likelihood: total over customers, in the data's time unit; both parameter sets "
        "evaluated by the same function. ΔLL = parcours − lifetimes (≥ 0: at least as good).",
        "- Peak memory: largest traced allocation (tracemalloc) during one untimed fit.",
        "",
        "## Speed-ups",
        "",
        *headline,
        "",
        "## All runs",
        "",
        "| case | library | customers | rows passed | time (s) | log-likelihood | ΔLL "
        "| peak MiB | parameters |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        base = ours[r.case]
        delta = "" if r is base else f"{base.log_likelihood - r.log_likelihood:+.2e}"
        peak = "" if np.isnan(r.peak_mib) else f"{r.peak_mib:.0f}"
        lines.append(
            f"| {r.case} | {r.library} | {r.customers:,} | {r.rows:,} | {r.seconds:.3f} "
            f"| {r.log_likelihood:,.3f} | {delta} | {peak} | {fmt_params(r.params)} |"
        )
    lines += ["", "## Notes", ""] + [f"- {c}" for c in notes] + [""]
    RESULTS.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5, help="repeats on CDNOW")
    parser.add_argument("--large-repeats", type=int, default=3, help="repeats on large cases")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "LIBRARY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.customers, args.seed, args.repeats)))
        return

    started = time.perf_counter()
    n = args.customers
    millions = f"{n / 1e6:g}M"
    labels = {
        "cdnow": "CDNOW BG/NBD",
        "cdnow-gg": "CDNOW Gamma-Gamma",
        "days": f"{millions} synthetic, day-level",
        "collapsed": f"{millions} synthetic, day-level, collapsed for both",
        "continuous": f"{millions} synthetic, continuous times",
        "days-gg": f"{millions} synthetic, Gamma-Gamma",
    }
    header = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "command": f"python benchmarks/bench_models.py --customers {n} --repeats "
        f"{args.repeats} --large-repeats {args.large_repeats} --seed {args.seed}",
        "repeats": f"{args.repeats} runs on CDNOW and {args.large_repeats} on the large cases "
        "(lifetimes: 1 on the continuous case and without its Hessian on the large cases)",
    }
    lifetimes = import_lifetimes()
    header["software"] = (
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"pandas {pd.__version__}, lifetimes {lifetimes.__version__} (imported unpatched)"
    )
    runs: list[Run] = []
    notes: list[str] = []
    for case in labels:
        data = case_data(case, n, args.seed)
        weights = data.get("weights")
        customers = int(len(data["x"]) if weights is None else weights.sum())
        for library in LIBRARIES:
            if data["kind"] == "gg" and library == "lifetimes (no Hessian)":
                continue
            large = not case.startswith("cdnow")
            repeats = args.large_repeats if large else args.repeats
            if large and library != "parcours" and (case == "continuous" or "Hessian" in library):
                repeats = 1
            print(f"{labels[case]}: {library} ...", file=sys.stderr, flush=True)
            result = run_worker(case, library, args, repeats)
            runs.append(
                Run(
                    labels[case],
                    library,
                    customers,
                    len(data["x"]),
                    result["seconds"],
                    log_likelihood(data, result["params"]),
                    result.get("peak_mib", np.nan),
                    result["params"],
                )
            )
            if "own_log_likelihood" in result:
                notes.append(
                    "Check of the shared log-likelihood function on CDNOW: lifetimes' own "
                    "objective, converted to a total in weeks, is "
                    f"{result['own_log_likelihood']:,.4f} at its parameters; ours gives "
                    f"{runs[-1].log_likelihood:,.4f} there (published: −9,582.4)."
                )
        if case == "collapsed":
            notes.append(
                f"Synthetic customers: BG/NBD with {fmt_params(TRUE_BGNBD)} (alpha in days), T "
                f"uniform on 1-730 days, seed {args.seed}; recency rounded up to whole days (a "
                "repeat purchase day is at least one day after the first). The "
                f"{customers:,} customers have {len(data['x']):,} distinct (frequency, recency, "
                "T) rows: parcours collapses them internally; in the 'collapsed for both' case "
                "both libraries get the distinct rows with their counts as weights."
            )
        if case == "days-gg":
            notes.append(
                f"Gamma-Gamma synthetic: mean spends of the {customers:,} repeat buyers of the "
                f"day-level case drawn from the model with {fmt_params(TRUE_GG)}."
            )
    notes += [
        "Continuous times: the same process without rounding (seed + 1), so collapsing saves "
        "nothing; the worst case for parcours.",
        "lifetimes' fit() also computes an autograd Hessian (for standard errors) that "
        "parcours does not; the 'lifetimes (no Hessian)' rows time its optimisation alone.",
        "ΔLL of order 1e-6 or below is optimiser tolerance: both libraries reach the same maximum.",
    ]
    header["elapsed"] = f"{time.perf_counter() - started:.0f} s"
    write_results(runs, notes, header)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
