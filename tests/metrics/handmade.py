"""Small hand-made warehouses whose KPIs are computed by hand or by a plain pandas script."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from parcours.engine import arrow_rows
from parcours.schema import (
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMERS,
    IDENTITY_MAP,
    ORDER_LINES,
    PRODUCTS,
    STORES,
    TableSpec,
)
from parcours.workspace import Workspace

AS_OF = dt.date(2025, 6, 30)
T0 = dt.datetime(2025, 1, 1)


def ts(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day) + dt.timedelta(hours=hour)


def load(ws: Workspace, spec: TableSpec, rows: list[dict]) -> None:
    """Write rows (missing columns null) as the canonical table ``spec``."""
    full = [{c: r.get(c) for c in spec.column_names} for r in rows]
    table = ws.engine.from_arrow(arrow_rows(full, spec), f"{spec.name}__hand")
    ws.engine.write(spec.name, table, stage="test")


def order(key, oid, when, channel, amount, *, status="completed", store=None, discount=0.0):
    return {
        CUSTOMER_KEY: key,
        "source": "pos",
        "order_id": oid,
        "customer_id": key,
        "ordered_at": when,
        "channel": channel,
        "store_id": store,
        "total_amount": amount,
        "discount_amount": discount,
        "status": status,
    }


def line(oid, sku, amount, category, no=1):
    return {
        "source": "pos",
        "order_id": oid,
        "line_no": no,
        "sku": sku,
        "category": category,
        "quantity": 1.0,
        "amount": amount,
    }


STORE_ROWS = [
    {"source": "ref", "store_id": "S1", "postal_code": "75011", "tourist_area": False},
    {"source": "ref", "store_id": "S9", "postal_code": "35400", "tourist_area": True},
]
PRODUCT_ROWS = [
    {"source": "ref", "sku": "CAF", "category": "cafe", "family": "epicerie"},
    {"source": "ref", "sku": "VIN", "category": "cave", "family": "epicerie"},
    {"source": "ref", "sku": "ROS", "category": "plantes", "family": "jardin"},
]

# a: multichannel, a cancelled and a returned order, a purchase late on the as-of day and
#    one after it; b: one purchase, festive, in a tourist store, lives elsewhere;
# c: known person with no order; e: two old web purchases; an anonymous ticket.
HAND_ORDERS = [
    order("a", "a1", ts("2025-01-10", 10), "store", 100.0, store="S1", discount=10.0),
    order("a", "a2", ts("2025-03-10", 22), "web", 50.0),
    order("a", "a3", ts("2025-04-01"), "web", 70.0, status="cancelled"),
    order("a", "a4", ts("2025-05-01"), "store", 30.0, status="returned", store="S1"),
    order("a", "a5", ts("2025-06-30", 23), "app", 20.0),
    order("a", "a6", ts("2025-07-02"), "store", 999.0, store="S1"),
    order("b", "b1", ts("2024-12-15"), "store", 80.0, store="S9"),
    order("e", "e1", ts("2023-01-01"), "web", 40.0),
    order("e", "e2", ts("2023-01-11"), "web", 60.0),
    order(None, "x1", ts("2025-02-02"), "store", 15.0, store="S1"),
]
HAND_LINES = [
    line("a1", "CAF", 60.0, "cafe"),
    line("a1", "ROS", 40.0, "plantes", 2),
    line("a2", "VIN", 50.0, "cave"),
    line("a3", "ROS", 70.0, "plantes"),
    line("a4", "ROS", 30.0, "plantes"),
    line("a5", "CAF", 20.0, "cafe"),
    line("a6", "ROS", 999.0, "plantes"),
    line("b1", "VIN", 80.0, "cave"),
    line("e1", "CAF", 40.0, "cafe"),
    line("e2", "CAF", 25.0, "cafe"),  # two lines of one category: still one purchase of it
    line("e2", "CAF", 35.0, "cafe", 2),
]
HAND_CUSTOMERS = [
    {"source": "pos", "source_id": "a", "postal_code": "75011", "birth_date": dt.date(1990, 7, 1)},
    {"source": "pos", "source_id": "b", "postal_code": "69002"},
    {"source": "pos", "source_id": "c"},
    {"source": "pos", "source_id": "e", "birth_date": dt.date(1950, 1, 1)},
]


def load_hand(ws: Workspace) -> None:
    """The hand-made warehouse above, keyed (each record its own person)."""
    load(ws, CUSTOMER_ORDERS, HAND_ORDERS)
    load(ws, ORDER_LINES, HAND_LINES)
    load(ws, PRODUCTS, PRODUCT_ROWS)
    load(ws, STORES, STORE_ROWS)
    load(ws, CUSTOMERS, HAND_CUSTOMERS)
    load(
        ws,
        IDENTITY_MAP,
        [
            {
                "source": "pos",
                "source_id": c["source_id"],
                CUSTOMER_KEY: c["source_id"],
                "method": "single",
                "resolved_at": T0,
            }
            for c in HAND_CUSTOMERS
        ],
    )


def random_orders(seed: int = 7, customers: int = 60) -> pd.DataFrame:
    """Random orders of a few dozen customers over two years, some not completed."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(customers):
        n = int(rng.integers(1, 9))
        start = rng.uniform(0, 700)
        t = start + np.cumsum(np.r_[0, rng.exponential(40, n - 1)])
        for j, day in enumerate(t):
            rows.append(
                {
                    CUSTOMER_KEY: f"k{i:03d}",
                    "order_id": f"o{i:03d}-{j}",
                    "ordered_at": dt.datetime(2023, 7, 1) + dt.timedelta(days=float(day)),
                    "channel": str(rng.choice(["store", "web", "app"], p=[0.5, 0.35, 0.15])),
                    "total_amount": float(np.round(rng.gamma(2, 30), 2)),
                    "discount_amount": float(rng.choice([0.0, 5.0], p=[0.8, 0.2])),
                    "status": str(
                        rng.choice(["completed", "cancelled", "returned"], p=[0.85, 0.08, 0.07])
                    ),
                    "category": str(rng.choice(["cafe", "cave", "plantes"])),
                }
            )
    return pd.DataFrame(rows)


def load_random(ws: Workspace, df: pd.DataFrame) -> None:
    """``random_orders`` as keyed orders with one line each, every person in the map."""
    orders = [
        order(
            r[CUSTOMER_KEY],
            r["order_id"],
            r["ordered_at"].to_pydatetime(),
            r["channel"],
            r["total_amount"],
            status=r["status"],
            discount=r["discount_amount"],
        )
        for r in df.to_dict("records")
    ]
    load(ws, CUSTOMER_ORDERS, orders)
    load(
        ws,
        ORDER_LINES,
        [
            line(r["order_id"], "SKU", r["total_amount"], r["category"])
            for r in df.to_dict("records")
        ],
    )
    load_single_record_persons(ws, sorted(df[CUSTOMER_KEY].unique()))


def load_single_record_persons(ws: Workspace, keys) -> None:
    """One person per key, each resolved from one customer record of source ``pos``."""
    load(ws, CUSTOMERS, [{"source": "pos", "source_id": k} for k in keys])
    load(
        ws,
        IDENTITY_MAP,
        [
            {
                "source": "pos",
                "source_id": k,
                CUSTOMER_KEY: k,
                "method": "single",
                "resolved_at": T0,
            }
            for k in keys
        ],
    )


def as_table(ws: Workspace, name: str, key: str | list[str]) -> pd.DataFrame:
    t = ws.engine.table(name)
    return ws.engine.to_pyarrow(t.order_by(key)).to_pandas()
