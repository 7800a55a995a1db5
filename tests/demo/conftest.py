"""A small demo, generated once per test session, and readers of its files and truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from parcours.demo import DemoManifest, generate

CUSTOMERS = 4_000
SEED = 42


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> DemoManifest:
    return generate(tmp_path_factory.mktemp("demo"), customers=CUSTOMERS, seed=SEED)


def read_native(manifest: DemoManifest, path: Path) -> pd.DataFrame:
    """Read one generated file with its source's mapping settings, every value as text."""
    mapping = manifest.sources[_source_of(manifest, path)]
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False, convert_dates=False)
    return pd.read_csv(
        path,
        sep=mapping["delimiter"],
        encoding=mapping["encoding"],
        decimal=mapping["decimal"],
        dtype=str,
        keep_default_na=False,
    )


def _source_of(manifest: DemoManifest, path: Path) -> str:
    return next(f.source for f in manifest.files if f.path == path)


def native(manifest: DemoManifest, relative: str) -> pd.DataFrame:
    return read_native(manifest, manifest.out_dir / relative)


def truth(manifest: DemoManifest, name: str) -> pd.DataFrame:
    return pd.read_parquet(manifest.truth_dir / name)


def planted(manifest: DemoManifest) -> dict:
    return json.loads((manifest.truth_dir / "planted.json").read_text(encoding="utf-8"))
