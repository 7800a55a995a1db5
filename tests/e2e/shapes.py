"""A small hand-made retailer as canonical input files, to cut into the shapes exports have.

Counts worked out by hand from the rows below:
- customers: 7 records, 6 persons: c7 is c2 again (same e-mail, phone,
  name and birth date); no other identifier is shared.
- orders: 14 rows; 12 completed orders of customers c1-c5, one cancelled order (c1), one
  anonymous store sale. Buyers: c1 (4 purchases), c2 (3), c3 (2), c4 (2), c5 (1); c6 never buys.
- order lines: one or two per order (20 rows).
- events: 12 rows: c1 and c2 each run one web session to a purchase, an anonymous visitor
  views a product and leaves; c1 gets a late delivery and answers a survey.
- consents: 2 rows; products: 3 rows; stores: 2 rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

CUSTOMERS = [
    ("c1", "ana.silva@example.org", "Ana", "Silva", "1980-04-02", "75011", "2023-01-10"),
    ("c2", "ben.martin@example.org", "Ben", "Martin", "1992-09-15", "69003", "2023-02-01"),
    ("c3", "chloe.roux@example.org", "Chloé", "Roux", "1975-12-30", "13001", "2023-03-12"),
    ("c4", "david.leroy@example.org", "David", "Leroy", "2000-06-21", "33000", "2023-05-05"),
    ("c5", "emma.petit@example.org", "Emma", "Petit", "1968-01-08", "59000", "2023-07-19"),
    ("c6", "farid.naji@example.org", "Farid", "Naji", "1988-03-03", "44000", "2023-09-01"),
    # Ben again, signed up a second time with the same e-mail: one person, two records.
    ("c7", "ben.martin@example.org", "Ben", "Martin", "1992-09-15", "69003", "2024-04-02"),
]

# order_id, customer_id, ordered_at, channel, store_id, total_amount, status
ORDERS = [
    ("o01", "c1", "2024-01-15 10:00:00", "store", "S1", 40.0, "completed"),
    ("o02", "c1", "2024-03-02 11:30:00", "web", "", 55.0, "completed"),
    ("o03", "c1", "2024-06-20 09:15:00", "store", "S1", 30.0, "completed"),
    ("o04", "c1", "2024-09-10 14:00:00", "web", "", 70.0, "completed"),
    ("o05", "c1", "2024-09-12 14:00:00", "web", "", 25.0, "cancelled"),
    ("o06", "c2", "2024-02-05 16:00:00", "web", "", 20.0, "completed"),
    ("o07", "c2", "2024-05-18 12:00:00", "store", "S2", 35.0, "completed"),
    ("o08", "c2", "2024-11-30 10:45:00", "web", "", 45.0, "completed"),
    ("o09", "c3", "2024-04-01 17:20:00", "store", "S2", 60.0, "completed"),
    ("o10", "c3", "2024-10-08 18:00:00", "store", "S2", 80.0, "completed"),
    ("o11", "c4", "2024-07-14 10:00:00", "web", "", 15.0, "completed"),
    ("o12", "c4", "2024-08-01 10:00:00", "app", "", 25.0, "completed"),
    ("o13", "c5", "2024-12-20 15:00:00", "store", "S1", 90.0, "completed"),
    ("o14", "", "2024-12-21 11:00:00", "store", "S1", 12.0, "completed"),
]
PURCHASES = 12  # completed orders of known customers
BUYERS = 5

SKUS = {
    "P1": ("Shirt", "tops", 20.0),
    "P2": ("Jeans", "trousers", 35.0),
    "P3": ("Cap", "hats", 5.0),
}

# event_id, occurred_at, type, customer_id, anonymous_id, session_id, sku, properties
EVENTS = [
    ("e01", "2024-03-02 11:00:00", "page_view", "c1", "a1", "s1", "", {"device": "mobile"}),
    ("e02", "2024-03-02 11:05:00", "product_view", "c1", "a1", "s1", "P2", {"device": "mobile"}),
    ("e03", "2024-03-02 11:10:00", "add_to_cart", "c1", "a1", "s1", "P2", {"device": "mobile"}),
    ("e04", "2024-03-02 11:20:00", "checkout_start", "c1", "a1", "s1", "", {"device": "mobile"}),
    ("e05", "2024-03-02 11:30:00", "purchase", "c1", "a1", "s1", "", {"order_id": "o02"}),
    ("e06", "2024-03-06 09:00:00", "order_delivered", "c1", "", "", "", {"late": True}),
    ("e07", "2024-03-08 09:00:00", "survey_response", "c1", "", "", "", {"score": 2}),
    ("e08", "2024-02-01 08:00:00", "email_open", "c2", "", "", "", {}),
    ("e09", "2024-02-05 15:50:00", "add_to_cart", "c2", "a2", "s2", "P1", {"device": "desktop"}),
    ("e10", "2024-02-05 15:55:00", "checkout_start", "c2", "a2", "s2", "", {"device": "desktop"}),
    ("e11", "2024-02-05 16:00:00", "purchase", "c2", "a2", "s2", "", {"revenue": 20.0}),
    ("e12", "2024-06-01 20:00:00", "product_view", "", "a9", "s9", "P3", {"device": "tablet"}),
]

CONSENTS = [("c1", "email", "true", "2023-01-10 00:00:00"), ("c2", "sms", "false", "2024-01-01")]
STORES = [
    ("S1", "Paris Bastille", "Paris", "75011", "IDF", "false"),
    ("S2", "Lyon Part-Dieu", "Lyon", "69003", "ARA", "false"),
]


def _write(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def customers(folder: Path, n: int | None = None) -> Path:
    phone = {"c7": "c2"}  # Ben kept his phone number too
    rows = [
        (c[0], c[1], f"+3361234560{phone.get(c[0], c[0])[1]}", *c[2:6], "FR", c[6])
        for c in CUSTOMERS[:n]
    ]
    header = ["source_id", "email", "phone", "first_name", "last_name", "birth_date"]
    return _write(folder / "customers.csv", [*header, "postal_code", "country", "created_at"], rows)


def orders(folder: Path, customers: set[str] | None = None) -> Path:
    header = ["order_id", "customer_id", "ordered_at", "channel", "store_id", "total_amount"]
    rows = [(*o[:6], "EUR", o[6]) for o in ORDERS if customers is None or o[1] in customers]
    return _write(folder / "orders.csv", [*header, "currency", "status"], rows)


def order_lines(folder: Path) -> Path:
    rows = []
    for i, o in enumerate(ORDERS):
        skus = ["P1", "P2"] if i % 3 == 0 else ["P3"] if i % 3 == 1 else ["P2"]
        share = o[5] / len(skus)
        rows += [(o[0], n, s, SKUS[s][1], 1, share, share) for n, s in enumerate(skus, 1)]
    header = ["order_id", "line_no", "sku", "category", "quantity", "unit_price", "amount"]
    return _write(folder / "order_lines.csv", header, rows)


def events(folder: Path, n: int | None = None) -> Path:
    rows = [
        (e[0], e[1], e[2], "web" if e[5] else "email", e[3], e[4], e[5], e[6], json.dumps(e[7]))
        for e in EVENTS[:n]
    ]
    header = ["event_id", "occurred_at", "type", "channel", "customer_id", "anonymous_id"]
    return _write(folder / "events.csv", [*header, "session_id", "sku", "properties"], rows)


def consents(folder: Path) -> Path:
    header = ["customer_id", "channel", "granted", "recorded_at"]
    return _write(folder / "consents.csv", header, CONSENTS)


def products(folder: Path) -> Path:
    rows = [(sku, name, cat, "clothing", price) for sku, (name, cat, price) in SKUS.items()]
    return _write(folder / "products.csv", ["sku", "name", "category", "family", "price"], rows)


def stores(folder: Path) -> Path:
    header = ["store_id", "name", "city", "postal_code", "region", "tourist_area"]
    return _write(folder / "stores.csv", header, STORES)


WRITERS = {
    "customers": customers,
    "orders": orders,
    "order-lines": order_lines,
    "events": events,
    "consents": consents,
    "products": products,
    "stores": stores,
}
