"""Personas on synthetic customers of known groups; marketing personas crossed with them."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pytest

from parcours.errors import ConfigError
from parcours.facts import PROFILE
from parcours.metrics import write_profile
from parcours.schema import (
    CUSTOMER_ORDERS,
    CUSTOMERS,
    IDENTITY_MAP,
    PERSONA_CROSSING,
    PERSONA_SELECTION,
    PERSONAS,
)
from parcours.segments import write_personas, write_segments
from parcours.segments.personas import _name, with_marketing_personas
from tests.metrics.handmade import T0, as_table, load, order

AS_OF = dt.date(2025, 6, 30)
GROUPS = {
    # weekly small store baskets; two big online purchases a year; one app purchase
    "w": ("store", 7, 30.0, 60),
    "p": ("web", 180, 500.0, 4),
    "o": ("app", None, 50.0, 1),
}


def load_groups(ws, per_group: int = 30) -> None:
    rng = np.random.default_rng(3)
    orders, keys = [], []
    for g, (channel, gap, basket, n) in GROUPS.items():
        for i in range(per_group):
            key = f"{g}{i:02d}"
            keys.append(key)
            start = dt.datetime(2025, 6, 20) - dt.timedelta(
                days=(gap or 30) * (n - 1) + float(rng.uniform(0, 5))
            )
            for j in range(n):
                when = start + dt.timedelta(days=(gap or 0) * j + float(rng.uniform(0, 1)))
                orders.append(
                    order(key, f"{key}-{j}", when, channel, basket * float(rng.uniform(0.9, 1.1)))
                )
    load(ws, CUSTOMER_ORDERS, orders)
    load(ws, CUSTOMERS, [{"source": "pos", "source_id": k} for k in keys])
    load(
        ws,
        IDENTITY_MAP,
        [
            {
                "source": "pos",
                "source_id": k,
                "customer_key": k,
                "method": "single",
                "resolved_at": T0,
            }
            for k in keys
        ],
    )


def test_personas_find_the_planted_groups_on_every_engine(make_workspace, engine_name):
    ws = make_workspace(
        engine_name,
        personas={
            "min_clusters": 2,
            "max_clusters": 5,
            "marketing": {"Gros paniers": "average_basket > 200", "Fidèles": "orders >= 10"},
        },
    )
    load_groups(ws)
    write_profile(ws, AS_OF)
    write_segments(ws)
    report = write_personas(ws)
    assert report.clusters == 3 and report.customers == 90
    p = as_table(ws, PROFILE, "customer_key")
    by_group = p.groupby(p.customer_key.str[0]).persona.agg(lambda s: set(s))
    assert all(len(s) == 1 for s in by_group)
    assert len(set.union(*by_group)) == 3
    cards = as_table(ws, PERSONAS.name, "persona").set_index("persona")
    assert cards.customers.tolist() == [30, 30, 30]
    assert cards.customer_share.sum() == pytest.approx(1.0)
    assert cards.revenue_share.sum() == pytest.approx(1.0)
    channel = {g: cards.loc[next(iter(s))].preferred_channel for g, s in by_group.items()}
    assert channel == {"w": "store", "p": "web", "o": "app"}
    assert (cards.name_fr.str.startswith("Clients")).all()
    sel = as_table(ws, PERSONA_SELECTION.name, "clusters")
    assert sel.clusters.tolist() == [2, 3, 4, 5]
    assert sel.chosen.tolist() == [False, True, False, False]
    assert sel.value.max() == pytest.approx(sel[sel.chosen].value.iloc[0])
    # first marketing rule that matches wins
    m = p.set_index("customer_key").marketing_persona
    assert set(m[m.index.str.startswith("p")]) == {"Gros paniers"}
    assert set(m[m.index.str.startswith("w")]) == {"Fidèles"}
    assert set(m[m.index.str.startswith("o")]) == {"none"}
    cross = as_table(ws, PERSONA_CROSSING.name, ["marketing_persona", "dimension", "segment"])
    big = cross[(cross.marketing_persona == "Gros paniers") & (cross.dimension == "persona")]
    assert big.customers.tolist() == [30] and big.share.tolist() == [1.0]


def test_personas_are_stable_across_reruns(make_workspace):
    ws = make_workspace(personas={"min_clusters": 2, "max_clusters": 5})
    load_groups(ws)
    write_profile(ws, AS_OF)
    write_personas(ws)
    first = as_table(ws, PROFILE, "customer_key").persona.tolist()
    write_personas(ws)
    assert as_table(ws, PROFILE, "customer_key").persona.tolist() == first


def test_marketing_persona_naming_an_unknown_column_is_a_user_error(make_workspace):
    ws = make_workspace(
        personas={"min_clusters": 2, "max_clusters": 3, "marketing": {"x": "basket > 1"}}
    )
    load_groups(ws, per_group=5)
    write_profile(ws, AS_OF)
    with pytest.raises(ConfigError, match="personas.marketing.x: unknown column `basket`"):
        write_personas(ws)


HAND_PROFILE = {
    "customer_key": ["a", "b", "c", "d"],
    "orders": [12, 3, 1, 0],
    "average_basket": [50.0, 250.0, None, None],
    "lifecycle_segment": ["loyal", "active", "new", "prospect"],
}


def test_marketing_rules_are_conditions_over_profile_columns_first_match_wins():
    rules = {
        "Gros paniers": "coalesce(average_basket, 0) > 200",
        "Fidèles": "orders >= 10 and lifecycle_segment in ('loyal', 'active')",
        "L'essai": "orders between 1 and 2 or lower(lifecycle_segment) = 'prospect'",
    }
    con = ibis.duckdb.connect()
    profile = con.create_table(PROFILE, ibis.memtable(HAND_PROFILE))
    out = with_marketing_personas(profile, rules, "duckdb")
    rows = con.to_pyarrow(out.select("customer_key", "marketing_persona"))
    got = {r["customer_key"]: r["marketing_persona"] for r in rows.to_pylist()}
    assert got == {"a": "Fidèles", "b": "Gros paniers", "c": "L'essai", "d": "L'essai"}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("orders > (select count(*) from customers)", "is not allowed in a condition"),
        ("length(read_text('/etc/passwd')) > 0", "is not allowed in a condition"),
        ("1 = 1) THEN 'x' END, (SELECT 1", "does not parse"),
        ("random() > 0.5", "is not allowed in a condition"),
        ("p.orders > 1", "unknown column `p.orders`"),
        ("orders > 1; drop table customer_profile", "is not allowed in a condition"),
    ],
)
def test_marketing_rule_that_is_not_a_plain_condition_is_a_config_error(rule, message):
    with pytest.raises(ConfigError, match="personas.marketing.x: ") as info:
        with_marketing_personas(ibis.memtable(HAND_PROFILE), {"x": rule}, "duckdb")
    assert message in str(info.value)


def test_persona_names_read_as_phrases_in_both_languages():
    assert _name([("web_share", 1.2), ("family_jardin", 0.9), ("orders", 0.5)]) == (
        "Online jardin lovers",
        "Amateurs de jardin en ligne",
    )
    assert _name([("family_epicerie_fine", 1.0), ("orders", 0.8)]) == (
        "Frequent epicerie fine lovers",
        "Amateurs d'epicerie fine fréquents",
    )
    assert _name([("days_since_last_order", 1.0), ("overdue_ratio", 0.9)]) == (
        "Dormant, lapsing customers",
        "Clients endormis, décrocheurs",
    )
    # A low share names nothing: no trait left, a neutral name.
    assert _name([("family_jardin", -1.0), ("tourist", -0.5)]) == (
        "Typical customers",
        "Clients typiques",
    )
