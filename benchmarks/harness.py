"""What the benchmark scripts share: each side runs in a process of its own, so that the peak
memory it reports is its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def run_side(script: str, *args: str) -> dict:
    """Run ``script --child ARGS`` and return the result it printed (``print_result``)."""
    out = subprocess.run(
        [sys.executable, script, "--child", *args], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def peak_rss_mib() -> float:
    """This process's own peak RSS: ``VmHWM`` starts afresh at exec, unlike ``ru_maxrss``,
    which keeps the parent's high-water mark."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def print_result(result: dict) -> None:
    """Print a side's result, with the peak memory of this process, for ``run_side``."""
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


def write_section(title: str, text: str) -> None:
    """Replace the section ``title`` of RESULTS.md (or append it); keep the others.

    ``text`` is the whole section, its title line first."""
    old = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = text.rstrip("\n") + "\n"
    if title not in old:
        RESULTS.write_text(old.rstrip("\n") + "\n\n" + section, "utf-8")
        return
    start = old.index(title)
    end = old.find("\n## ", start + 1)
    RESULTS.write_text(old[:start] + section + ("" if end < 0 else old[end:]), "utf-8")
