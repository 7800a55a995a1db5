"""A large demo is generated in chunks: its memory does not grow with the number of people."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from parcours.demo.generator import CHUNK_PERSONS

SCRIPT = """
import json, resource, sys
from pathlib import Path
from parcours.demo import generate
m = generate(Path(sys.argv[1]), customers=int(sys.argv[2]), seed=5)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({"persons": m.persons, "orders": m.orders, "peak_kib": peak}))
"""


def _run(tmp_path, customers: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / str(customers)), str(customers)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_200k_customers_generate_with_memory_of_one_chunk(tmp_path):
    one_chunk = _run(tmp_path, CHUNK_PERSONS)
    large = _run(tmp_path, 200_000)
    assert large["persons"] == 200_000
    assert large["orders"] > 3 * one_chunk["orders"]
    # Four times the people, about the memory of one chunk.
    assert large["peak_kib"] < 1.3 * one_chunk["peak_kib"]
    assert large["peak_kib"] < 3 * 1024 * 1024
