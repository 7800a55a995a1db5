"""What the benchmark scripts share: each side runs in a process of its own, so that the peak
memory it reports is its own."""

from __future__ import annotations

import json
import resource
import subprocess
import sys


def run_side(script: str, *args: str) -> dict:
    """Run ``script --child ARGS`` and return the result it printed (``print_result``)."""
    out = subprocess.run(
        [sys.executable, script, "--child", *args], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_result(result: dict) -> None:
    """Print a side's result, with the peak memory of this process, for ``run_side``."""
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
