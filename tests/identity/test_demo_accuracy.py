"""Identity resolution against the demo's ground truth (every record's real person)."""

from __future__ import annotations

import pandas as pd
import pytest

from parcours.identity import resolve
from tests.engines import rows


@pytest.fixture(scope="module")
def resolved(demo_world, tmp_path_factory):
    ws = demo_world.copy(tmp_path_factory.mktemp("identity") / "ws")
    summary = resolve(ws)
    yield ws, summary, demo_world
    ws.close()


def pairs(df: pd.DataFrame, by: list[str]) -> int:
    n = df.groupby(by).size()
    return int((n * (n - 1) // 2).sum())


def true_scores(ws, world) -> tuple[float, float]:
    """Pairwise precision and recall of the persons found against the real persons."""
    found = pd.DataFrame(rows(ws, "identity_map"))
    truth = world.truth("records")[["source", "source_id", "person_id"]]
    j = found.merge(truth, on=["source", "source_id"], validate="one_to_one")
    assert len(j) == len(truth)
    both = pairs(j, ["customer_key", "person_id"])
    return both / pairs(j, ["customer_key"]), both / pairs(j, ["person_id"])


def test_pairwise_precision_and_recall_meet_the_targets(resolved):
    ws, _, world = resolved
    precision, recall = true_scores(ws, world)
    assert precision >= 0.98, precision
    assert recall >= 0.95, recall


def test_the_run_announces_the_precision_and_recall_it_gets(resolved):
    ws, summary, world = resolved
    precision, recall = true_scores(ws, world)
    match = summary.match
    assert abs(match.estimated_precision - precision) <= 0.02, (match, precision)
    assert abs(match.estimated_recall - recall) <= 0.03, (match, recall)


def test_shared_emails_of_couples_do_not_merge_them(resolved):
    ws, _, world = resolved
    found = pd.DataFrame(rows(ws, "identity_map"))
    persons = world.truth("persons")
    truth = world.truth("records").merge(persons[["person_id", "identity_case"]], on="person_id")
    j = found.merge(truth, on=["source", "source_id"])
    couples = j[j.identity_case.isin(["shared_email_owner", "shared_email_partner"])]
    mixed = couples.groupby("customer_key").person_id.nunique()
    assert len(couples) > 20
    assert (mixed > 1).mean() < 0.05


def test_every_order_of_a_known_customer_is_keyed(resolved):
    ws, _, world = resolved
    orders = pd.DataFrame(rows(ws, "customer_orders"))
    known = orders[orders.customer_id.notna()]
    assert known.customer_key.notna().all()
    assert orders[orders.customer_id.isna()].customer_key.isna().all()
    # the keyed orders of a person are the person's true orders
    truth = world.truth("orders")[["source", "order_id", "person_id"]]
    j = known.merge(truth, on=["source", "order_id"])
    purity = j.groupby("customer_key").person_id.agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert purity.mean() > 0.99


def test_anonymous_browsing_is_stitched_to_the_person_who_logged_in(resolved):
    ws, _, _ = resolved
    e = ws.engine.table("customer_events")
    stitched = e.filter(e.customer_id.isnull() & e.customer_key.notnull()).count()
    assert ws.engine.execute(stitched) > 1000
    # a visitor id that logged in has all its events on that one person
    per_visitor = (
        e.filter(e.anonymous_id.notnull() & e.customer_key.notnull())
        .group_by("anonymous_id")
        .aggregate(n=e.customer_key.nunique())
    )
    assert ws.engine.execute(per_visitor.n.max()) == 1


def test_rerun_on_the_same_data_keeps_every_key_and_changes_nothing(resolved):
    ws, _, _ = resolved
    before = {(r["source"], r["source_id"]): r["customer_key"] for r in rows(ws, "identity_map")}
    summary = resolve(ws)
    after = {(r["source"], r["source_id"]): r["customer_key"] for r in rows(ws, "identity_map")}
    assert after == before
    assert summary.changes == {}
    assert summary.scored.startswith("0 new")


def test_golden_record_has_one_row_per_person_with_lineage(resolved):
    ws, summary, _ = resolved
    golden = pd.DataFrame(rows(ws, "customers_golden"))
    assert len(golden) == golden.customer_key.nunique() == summary.persons
    lineage = pd.DataFrame(rows(ws, "golden_lineage"))
    emails = lineage[lineage.field == "email"]
    assert len(emails) == golden.email.notna().sum()
    # each golden email is held by the record its lineage names
    c = pd.DataFrame(rows(ws, "customers"))[["source", "source_id", "email"]]
    j = emails.merge(c, on=["source", "source_id"]).merge(
        golden[["customer_key", "email"]], on="customer_key", suffixes=("_record", "_golden")
    )
    assert (j.email_record == j.email_golden).all()
