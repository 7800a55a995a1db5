"""The demo through parcours' own ingestion: everything loads but the planted bad rows."""

from __future__ import annotations

from pathlib import Path

from parcours.demo import generate
from parcours.ingest import ingest_files
from parcours.workspace import Workspace
from tests.demo.conftest import planted
from tests.engines import count, rows


def test_demo_ingests_and_only_the_planted_bad_rows_are_quarantined(tmp_path):
    demo = generate(tmp_path / "data", customers=400, seed=3)
    with Workspace.init(tmp_path / "ws", sources=demo.sources) as ws:
        for f in demo.files:
            report = ingest_files(ws, f.kind, [f.path], source=f.source)
            assert not report.failures, f.path
        quarantined = {(r["source_file"], r["source_line"]) for r in rows(ws, "quarantine")}
        assert count(ws, "customers") == demo.source_records
        assert count(ws, "orders") == demo.orders
        assert count(ws, "order_lines") == demo.order_lines
        assert count(ws, "events") == demo.events
        assert count(ws, "consents") == demo.consents
        assert count(ws, "products") == 200
        assert count(ws, "stores") == 12
    expected = {(Path(r["file"]).name, r["line"]) for r in planted(demo)["bad_rows"]}
    assert quarantined == expected
