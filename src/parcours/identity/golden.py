"""Golden records: per field, the value the survivorship rules choose, with its lineage.

Rules (per field in ``identity.survivorship``, ``default`` for the rest):
``source_priority`` (order of ``identity.source_priority``), ``most_recent`` (latest
``created_at``, then latest ingestion), ``most_frequent`` (the value most records hold),
``most_complete`` (the longest value). Ties fall to the most recent record. The address is
one unit: every address field comes from the record that wins ``address``, so a golden
address never mixes a street from one record with a city from another.
"""

from __future__ import annotations

import ibis

from parcours.config import IdentityConfig
from parcours.schema import (
    CUSTOMER_KEY,
    CUSTOMERS_GOLDEN,
    GOLDEN_FIELDS,
    SOURCE,
)

ADDRESS = ("address_line1", "address_line2", "postal_code", "city", "region", "country")
ADDRESS_UNIT = "address"


def _units() -> dict[str, tuple[str, ...]]:
    units = {f: (f,) for f in GOLDEN_FIELDS if f not in ADDRESS}
    units[ADDRESS_UNIT] = ADDRESS
    return units


def _rank_key(rule: str, t: ibis.Table, value: ibis.StringValue, config: IdentityConfig):
    if rule == "source_priority":
        order = config.source_priority
        return t[SOURCE].cases(*[(s, i) for i, s in enumerate(order)], else_=len(order))
    if rule == "most_frequent":
        return -value.count().over(group_by=[t[CUSTOMER_KEY], value])
    if rule == "most_complete":
        return -value.length()
    return ibis.literal(0)  # most_recent: the tie-break below decides


def golden_records(
    customers: ibis.Table, identity_map: ibis.Table, config: IdentityConfig
) -> tuple[ibis.Table, ibis.Table]:
    """``customers_golden`` and ``golden_lineage`` expressions."""
    c = customers.join(
        identity_map.select(SOURCE, "source_id", CUSTOMER_KEY), [SOURCE, "source_id"]
    )
    rules = config.survivorship
    base = c.group_by(CUSTOMER_KEY).aggregate(
        created_at=c.created_at.min(),
        records=c.count(),
        sources=c[SOURCE].collect(distinct=True).sort().join(","),
    )
    winners = []
    lineage = []
    for unit, fields in _units().items():
        lead = fields[0] if unit != ADDRESS_UNIT else "postal_code"
        rule = rules.get(unit, rules.get("default", "most_recent"))
        cand = c.filter(c[lead].notnull())
        value = cand[lead].cast("string")
        ranked = cand.mutate(
            _k=_rank_key(rule, cand, value, config),
        ).mutate(
            _rank=ibis.row_number().over(
                group_by=CUSTOMER_KEY,
                order_by=[
                    ibis._._k,
                    ibis.desc(ibis._.created_at),
                    ibis.desc(ibis._.ingested_at),
                    ibis._[SOURCE],
                    ibis._.source_id,
                ],
            )
        )
        win = ranked.filter(ranked._rank == 0)
        winners.append(win.select(CUSTOMER_KEY, *fields))
        for f in fields:
            w = win.filter(win[f].notnull())
            lineage.append(
                w.select(
                    CUSTOMER_KEY,
                    field=ibis.literal(f),
                    source=w[SOURCE],
                    source_id=w.source_id,
                    rule=ibis.literal(rule),
                )
            )
    golden = base
    for w in winners:
        golden = golden.left_join(w, golden[CUSTOMER_KEY] == w[CUSTOMER_KEY]).drop(
            f"{CUSTOMER_KEY}_right"
        )
    return golden.select(*CUSTOMERS_GOLDEN.column_names), lineage[0].union(*lineage[1:])
