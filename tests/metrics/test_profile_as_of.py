"""The profile as of a past date holds only the persons known on that date."""

from __future__ import annotations

import datetime as dt

from parcours.metrics import write_profile
from parcours.schema import CUSTOMER_KEY, CUSTOMER_ORDERS, CUSTOMERS, IDENTITY_MAP
from tests.engines import rows
from tests.metrics.handmade import load, order, ts

AS_OF = dt.date(2025, 3, 31)


def _record(key: str, created: str | None) -> tuple[dict, dict]:
    customer = {
        "source": "crm",
        "source_id": key,
        "created_at": ts(created) if created else None,
    }
    mapped = {"source": "crm", "source_id": key, CUSTOMER_KEY: key, "method": "single"}
    return customer, mapped


def test_profile_as_of_leaves_out_persons_first_seen_after_that_date(workspace):
    # a: signed up and bought before as-of; b: signed up after it; c: no date at all (kept:
    # nothing says when c became known); d: signed up after as-of but bought in a store
    # before it; e: no sign-up date, first order after as-of; f: only an order after as-of.
    records = [
        _record("a", "2025-01-01"),
        _record("b", "2025-05-01"),
        _record("c", None),
        _record("d", "2025-06-01"),
        _record("e", None),
    ]
    load(workspace, CUSTOMERS, [c for c, _ in records])
    load(workspace, IDENTITY_MAP, [m for _, m in records])
    load(
        workspace,
        CUSTOMER_ORDERS,
        [
            order("a", "a1", ts("2025-02-01"), "web", 10.0),
            order("d", "d1", ts("2025-03-01"), "store", 20.0),
            order("e", "e1", ts("2025-05-01"), "web", 30.0),
            order("f", "f1", ts("2025-05-02"), "web", 40.0),
        ],
    )
    report = write_profile(workspace, AS_OF)
    profile = rows(workspace, "customer_profile", CUSTOMER_KEY)
    assert [(r[CUSTOMER_KEY], r["orders"]) for r in profile] == [("a", 1), ("c", 0), ("d", 1)]
    assert (report.customers, report.buyers) == (3, 2)

    later = write_profile(workspace, dt.date(2025, 6, 30))
    assert later.customers == 6 and later.buyers == 4
