"""The demo retailer ingested into a workspace, with its ground truth, for the analysis tests.

``key_from_truth`` writes the single-customer-view tables from the generator's truth (every
record to its real person), so that a stage can be tested apart from identity resolution.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from parcours.demo import DemoManifest, generate
from parcours.demo.run import ingest_demo
from parcours.schema import (
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    IDENTITY_MAP,
)
from parcours.workspace import Workspace

CUSTOMERS = 10_000
SEED = 42


@dataclass
class DemoWorld:
    """A demo workspace and the truth behind it."""

    ws: Workspace
    manifest: DemoManifest
    pristine: Path  # a copy of the workspace as ingested, before any stage ran
    keyed: Path | None = None  # a copy once keyed by the truth (see key_from_truth)

    def copy(self, directory: Path) -> Workspace:
        """A workspace of one's own, as ingested, for tests that run stages."""
        shutil.copytree(self.pristine, directory)
        return Workspace.open(directory)

    def keyed_copy(self, directory: Path) -> Workspace:
        """A workspace of one's own, keyed by the truth, for tests that run later stages."""
        assert self.keyed is not None, "key_from_truth has not run"
        shutil.copytree(self.keyed, directory)
        return Workspace.open(directory)

    def truth(self, name: str) -> pd.DataFrame:
        """One truth table (``persons``, ``records``, ``orders``) as pandas."""
        return pd.read_parquet(self.manifest.truth_dir / f"{name}.parquet")

    @property
    def planted(self) -> dict:
        return json.loads((self.manifest.truth_dir / "planted.json").read_text("utf-8"))


def build(directory: Path, customers: int = CUSTOMERS, seed: int = SEED) -> DemoWorld:
    manifest = generate(directory / "data", customers=customers, seed=seed)
    ws = Workspace.init(directory / "ws", sources=manifest.sources)
    report = ingest_demo(ws, manifest)
    assert not report.failures, report.failures
    ws.close()  # flush the DuckDB file before copying it
    pristine = directory / "pristine"
    shutil.copytree(directory / "ws", pristine)
    return DemoWorld(Workspace.open(directory / "ws"), manifest, pristine)


def key_from_truth(world: DemoWorld) -> None:
    """Write identity_map and the keyed facts with the true person as customer_key."""
    engine = world.ws.engine
    records = engine.read_parquet(world.manifest.truth_dir / "records.parquet", "truth_records")
    rmap = records.select("source", "source_id", person=records.person_id)

    customers = engine.table("customers")
    idmap = customers.join(rmap, ["source", "source_id"]).select(
        "source",
        "source_id",
        **{CUSTOMER_KEY: rmap.person},
        method=ibis.literal("single"),
        resolved_at=customers.ingested_at,
    )
    engine.write(IDENTITY_MAP.name, idmap, stage="truth")

    def keyed(table: ibis.Table) -> ibis.Table:
        m = rmap.rename(customer_id="source_id")
        j = table.left_join(m, [table.source == m.source, table.customer_id == m.customer_id])
        return j.select(**{CUSTOMER_KEY: j.person}, **{c: table[c] for c in table.columns})

    engine.write(CUSTOMER_ORDERS.name, keyed(engine.table("orders")), stage="truth")

    events = keyed(engine.table("events"))
    # Anonymous browsing belongs to whoever the same visitor id logged in as.
    visitors = (
        events.filter(events.anonymous_id.notnull(), events[CUSTOMER_KEY].notnull())
        .group_by(visitor=events.anonymous_id)
        .aggregate(person=events[CUSTOMER_KEY].min())
    )
    e = events.left_join(visitors, events.anonymous_id == visitors.visitor)
    events = e.select(
        **{CUSTOMER_KEY: ibis.coalesce(e[CUSTOMER_KEY], e.person)},
        **{c: e[c] for c in events.columns if c != CUSTOMER_KEY},
    )
    engine.write(CUSTOMER_EVENTS.name, events, stage="truth")

    consents = keyed(engine.table("consents"))
    latest = consents.filter(consents[CUSTOMER_KEY].notnull()).mutate(
        rank=ibis.row_number().over(
            group_by=[consents[CUSTOMER_KEY], consents.channel],
            order_by=ibis.desc(consents.recorded_at),
        )
    )
    engine.write(
        CUSTOMER_CONSENTS.name,
        latest.filter(latest["rank"] == 0).select(*CUSTOMER_CONSENTS.column_names),
        stage="truth",
    )
    engine.forget("truth_records")
    world.ws.close()  # flush the DuckDB file before copying it; reopened on next use
    world.keyed = world.ws.dir.parent / "keyed"
    shutil.copytree(world.ws.dir, world.keyed)
