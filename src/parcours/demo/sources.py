"""Each source's files in its native shape, and the mapping that brings them to parcours.

- ``store``: the POS and loyalty system. French CSV: ``;``, Latin-1, decimal comma,
  ``dd/mm/yyyy`` dates, upper-case French headers, department codes (``RAYON``) and channel
  and status codes mapped through ``values``. It holds the stores, loyalty customers, till
  receipts (``CANAL`` MAG for the till, TEL for phone orders taken by a store), their lines
  and the customers' consents. Anonymous receipts have no ``ID_CLIENT``.
- ``catalogue``: the product information system. Tab-separated UTF-8.
- ``web``: the web shop. Accounts, order items and consents as comma CSV in UTF-8 with
  English headers, orders as JSON lines. **App orders go through the web shop**: they are
  in ``web/orders.jsonl`` with ``device: app`` and the web account of the buyer. The shop's
  browsing events and its delivery notifications are Segment-like JSON lines.
- ``app``: the mobile app's own user directory (another id, another layout), its push
  consents and its Segment-like events (``userId`` is the app user id; the ``purchase``
  event carries the web-shop order id).
- ``emailing``: the e-mail platform. A contact export (CSV with spaced headers) and the
  send/open/click activity as JSON lines.
- ``service``: the customer-service tool. Requesters (CSV) and ticket and survey events
  (JSON lines).

Every timestamp is UTC; the store export writes it without a zone (``dd/mm/yyyy HH:MM``), the
others as ISO 8601 with ``Z``. Nested JSON objects (``properties``, ``campaign``,
``details``) are read as JSON text by ingestion and mapped to ``properties``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from parcours.demo import formats
from parcours.demo.aftersales import TICKET_TOPICS, TICKET_VIA
from parcours.demo.behaviours import BAD_ROWS, FUNNELS
from parcours.demo.catalogue import CATEGORIES, PRODUCTS, STORES, WEB_DOMAIN
from parcours.demo.chunk import Chunk, SourceRecords, take_or_null
from parcours.demo.columns import Columns
from parcours.demo.consents import CONSENT_CHANNELS
from parcours.demo.emails import ACTIONS, email_activity
from parcours.demo.people import BEHAVIOUR_NAMES, hex_ids
from parcours.demo.purchases import APP, PHONE, WEB
from parcours.demo.sessions import (
    BUY,
    CART,
    CHECKOUT,
    LOYALTY_CARD,
    funnel_sessions,
    loyalty_card_sessions,
    prospect_sessions,
    render_events,
    research_sessions,
    session_events,
)

STORE_ENCODING = "latin-1"
STORE_DATE = "%d/%m/%Y"
STORE_DATETIME = "%d/%m/%Y %H:%M"
CANAL = {"store": "MAG", "phone": "TEL"}
STATUT = ("VALIDE", "ANNULE", "RETOUR")
WEB_STATES = ("complete", "canceled", "refunded")
CARRIERS = ("Colissimo", "Chronopost", "DPD", "Mondial Relay")
PROSPECT_SESSIONS_PER_ORDER = 0.3  # anonymous visitors who never buy, per web order
EVENTS_PER_WRITE = 500_000  # events rendered at once, to bound the memory of the text


@dataclass(frozen=True)
class DemoFile:
    """One generated input file: its kind (as ``parcours ingest KIND``), source and path."""

    kind: str
    source: str
    path: Path


def _segment_events_mapping() -> dict:
    return {
        "rename": {
            "messageId": "event_id",
            "timestamp": "occurred_at",
            "event": "type",
            "userId": "customer_id",
            "anonymousId": "anonymous_id",
            "sessionId": "session_id",
            "channel": "channel",
            "page_url": "url",
            "sku": "sku",
            "properties": "properties",
        },
        "values": {"channel": {"browser": "web", "mobile": "app", "server": "other"}},
    }


def mappings() -> dict[str, dict]:
    """The mapping of every source, in the ``SourceConfig`` shape of ``parcours.yaml``.

    Returns
    -------
    dict
        Source name -> settings (format, delimiter, encoding, decimal, date_format, tables).
    """
    return {
        "store": {
            "format": "csv",
            "delimiter": ";",
            "encoding": STORE_ENCODING,
            "decimal": ",",
            "date_format": STORE_DATE,
            "tables": {
                "stores": {
                    "rename": {
                        "CODE_MAG": "store_id",
                        "NOM_MAG": "name",
                        "VILLE": "city",
                        "CODE_POSTAL": "postal_code",
                        "REGION": "region",
                        "ZONE_TOURISTIQUE": "tourist_area",
                    },
                    "values": {"tourist_area": {"O": "true", "N": "false"}},
                },
                "customers": {
                    "rename": {
                        "ID_CLIENT": "source_id",
                        "NUM_CARTE": "loyalty_id",
                        "CIVILITE": "gender",
                        "NOM": "last_name",
                        "PRENOM": "first_name",
                        "DATE_NAISSANCE": "birth_date",
                        "EMAIL": "email",
                        "TELEPHONE": "phone",
                        "ADRESSE": "address_line1",
                        "ADRESSE2": "address_line2",
                        "CODE_POSTAL": "postal_code",
                        "VILLE": "city",
                        "DATE_CREATION": "created_at",
                    },
                    "constants": {"country": "FR"},
                    "values": {"gender": {"MME": "f", "MLLE": "f", "M": "m"}},
                },
                "orders": {
                    "rename": {
                        "NUM_TICKET": "order_id",
                        "ID_CLIENT": "customer_id",
                        "DATE_HEURE": "ordered_at",
                        "CODE_MAG": "store_id",
                        "CANAL": "channel",
                        "MONTANT_TTC": "total_amount",
                        "REMISE": "discount_amount",
                        "DEVISE": "currency",
                        "STATUT": "status",
                    },
                    "values": {
                        "channel": {v: k for k, v in CANAL.items()},
                        "status": dict(
                            zip(STATUT, ("completed", "cancelled", "returned"), strict=True)
                        ),
                    },
                    "date_format": STORE_DATETIME,
                },
                "order-lines": {
                    "rename": {
                        "NUM_TICKET": "order_id",
                        "NUM_LIGNE": "line_no",
                        "CODE_ARTICLE": "sku",
                        "RAYON": "category",
                        "QTE": "quantity",
                        "PRIX_UNIT": "unit_price",
                        "MONTANT": "amount",
                    },
                    "values": {"category": {c.rayon: c.code for c in CATEGORIES}},
                },
                "consents": {
                    "rename": {
                        "ID_CLIENT": "customer_id",
                        "CANAL_CONTACT": "channel",
                        "OPTIN": "granted",
                        "DATE_MAJ": "recorded_at",
                    },
                    "values": {
                        "channel": {"EMAIL": "email", "SMS": "sms", "COURRIER": "post"},
                        "granted": {"O": "true", "N": "false"},
                    },
                },
            },
        },
        "catalogue": {
            "format": "csv",
            "delimiter": "\t",
            "encoding": "utf-8",
            "decimal": ".",
            "tables": {
                "products": {
                    "rename": {
                        "reference": "sku",
                        "designation": "name",
                        "famille": "family",
                        "categorie": "category",
                        "prix_ttc": "price",
                    }
                },
            },
        },
        "web": {
            "format": "auto",
            "delimiter": ",",
            "encoding": "utf-8",
            "decimal": ".",
            "tables": {
                "customers": {
                    "rename": {
                        "account_id": "source_id",
                        "title": "gender",
                        "firstname": "first_name",
                        "lastname": "last_name",
                        "mail": "email",
                        "mobile": "phone",
                        "dob": "birth_date",
                        "street": "address_line1",
                        "street2": "address_line2",
                        "zip": "postal_code",
                        "town": "city",
                        "country": "country",
                        "signup_date": "created_at",
                    },
                    "values": {"gender": {"Mrs": "f", "Ms": "f", "Mr": "m", "Mx": "x"}},
                },
                "orders": {
                    "rename": {
                        "id": "order_id",
                        "account": "customer_id",
                        "created": "ordered_at",
                        "device": "channel",
                        "pickup_store": "store_id",
                        "grand_total": "total_amount",
                        "discount": "discount_amount",
                        "currency": "currency",
                        "state": "status",
                    },
                    "values": {
                        "status": dict(
                            zip(WEB_STATES, ("completed", "cancelled", "returned"), strict=True)
                        )
                    },
                },
                "order-lines": {
                    "rename": {
                        "order_id": "order_id",
                        "position": "line_no",
                        "product_sku": "sku",
                        "product_type": "category",
                        "qty_ordered": "quantity",
                        "price": "unit_price",
                        "row_total": "amount",
                    },
                },
                "consents": {
                    "rename": {
                        "account_id": "customer_id",
                        "topic": "channel",
                        "subscribed": "granted",
                        "updated_at": "recorded_at",
                    },
                    "values": {"channel": {"newsletter": "email", "sms_offers": "sms"}},
                },
                "events": _segment_events_mapping(),
            },
        },
        "app": {
            "format": "jsonl",
            "tables": {
                "customers": {
                    "rename": {
                        "uid": "source_id",
                        "email": "email",
                        "phone_number": "phone",
                        "given_name": "first_name",
                        "family_name": "last_name",
                        "birthdate": "birth_date",
                        "postcode": "postal_code",
                        "registered_at": "created_at",
                    },
                    "constants": {"country": "FR"},
                },
                "consents": {
                    "rename": {
                        "uid": "customer_id",
                        "push_enabled": "granted",
                        "changed_at": "recorded_at",
                    },
                    "constants": {"channel": "push"},
                },
                "events": _segment_events_mapping(),
            },
        },
        "emailing": {
            "format": "auto",
            "delimiter": ",",
            "encoding": "utf-8",
            "decimal": ".",
            "tables": {
                "customers": {
                    "rename": {
                        "LEID": "source_id",
                        "Email Address": "email",
                        "First Name": "first_name",
                        "Last Name": "last_name",
                        "OPTIN_TIME": "created_at",
                    },
                },
                "events": {
                    "rename": {
                        "id": "event_id",
                        "timestamp": "occurred_at",
                        "action": "type",
                        "contact_id": "customer_id",
                        "url": "url",
                        "campaign": "properties",
                    },
                    "constants": {"channel": "email"},
                    "values": {
                        "type": {"sent": "email_send", "open": "email_open", "click": "email_click"}
                    },
                },
            },
        },
        "service": {
            "format": "auto",
            "delimiter": ",",
            "encoding": "utf-8",
            "decimal": ".",
            "tables": {
                "customers": {
                    "rename": {
                        "requester_id": "source_id",
                        "first_name": "first_name",
                        "last_name": "last_name",
                        "email": "email",
                        "phone": "phone",
                        "created_at": "created_at",
                    },
                },
                "events": {
                    "rename": {
                        "event_id": "event_id",
                        "created_at": "occurred_at",
                        "type": "type",
                        "requester_id": "customer_id",
                        "via": "channel",
                        "details": "properties",
                    },
                },
            },
        },
    }


class NativeFile:
    """One output file, written in chunks: CSV (any delimiter and encoding) or JSON lines.

    Parameters
    ----------
    path : pathlib.Path
        Where to write.
    kind, source : str
        Input kind and source of the file.
    delimiter : str, optional
        CSV delimiter; None for JSON lines.
    encoding : str
        Text encoding of a CSV file.
    quoting : str
        pyarrow quoting style of a CSV file (``needed`` quotes every text value, ``none``
        none).
    """

    def __init__(
        self,
        path: Path,
        kind: str,
        source: str,
        delimiter: str | None = None,
        encoding: str = "utf-8",
        quoting: str = "needed",
    ) -> None:
        self.path = path
        self.kind = kind
        self.source = source
        self.delimiter = delimiter
        self.encoding = encoding
        self.quoting = quoting
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._header = False

    @property
    def demo_file(self) -> DemoFile:
        """The file as the manifest lists it."""
        return DemoFile(self.kind, self.source, self.path)

    def write_csv(self, columns: dict[str, pa.Array]) -> int:
        """Append rows; the header is written with the first call.

        Parameters
        ----------
        columns : dict
            Header name -> text values.

        Returns
        -------
        int
            Line number (header = 1) of the first row written.
        """
        table = pa.table({k: _text(v) for k, v in columns.items()})
        sink = io.BytesIO()
        options = pacsv.WriteOptions(
            include_header=not self._header, delimiter=self.delimiter, quoting_style=self.quoting
        )
        if self.quoting == "none" and not self._header:
            # pyarrow quotes the header even with quoting_style="none"; write it ourselves.
            sink.write((self.delimiter.join(table.column_names) + "\n").encode("utf-8"))
            options = pacsv.WriteOptions(
                include_header=False, delimiter=self.delimiter, quoting_style=self.quoting
            )
        if table.num_rows or not self._header:
            pacsv.write_csv(table, sink, options)
        data = sink.getvalue()
        if self.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            data = data.decode("utf-8").encode(self.encoding)
        self._file.write(data)
        self._header = True
        first = self.rows + 2
        self.rows += table.num_rows
        return first

    def write_jsonl(self, objects: pa.Array) -> int:
        """Append JSON objects (text), one per line; returns the line of the first one."""
        self._file.write(formats.json_lines(objects))
        first = self.rows + 1
        self.rows += len(objects)
        return first

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _text(values) -> pa.Array:
    if isinstance(values, np.ndarray):
        values = pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


# -- the files ----------------------------------------------------------------------------
def write_stores(out: NativeFile) -> None:
    """The store list (``magasins.csv``)."""
    out.write_csv(
        {
            "CODE_MAG": pa.array([s.code for s in STORES]),
            "NOM_MAG": pa.array([s.name for s in STORES]),
            "VILLE": pa.array([s.city for s in STORES]),
            "CODE_POSTAL": pa.array([s.postal_code for s in STORES]),
            "REGION": pa.array([s.region for s in STORES]),
            "ZONE_TOURISTIQUE": pa.array(["O" if s.tourist_area else "N" for s in STORES]),
        }
    )


def write_products(out: NativeFile) -> None:
    """The catalogue (``articles.tsv``)."""
    family = {c.code: c.family for c in CATEGORIES}
    out.write_csv(
        {
            "reference": pa.array([p.sku for p in PRODUCTS]),
            "designation": pa.array([p.name for p in PRODUCTS]),
            "famille": pa.array([family[p.category] for p in PRODUCTS]),
            "categorie": pa.array([p.category for p in PRODUCTS]),
            "prix_ttc": pa.array([f"{p.price:.2f}" for p in PRODUCTS]),
        }
    )


def segment_objects(ev, channel: str) -> pa.Array:
    """Segment-like JSON objects from rendered event fields.

    Parameters
    ----------
    ev : Columns
        ``event_id``, ``timestamp`` and ``event`` as text; ``user_id``, ``anonymous_id``,
        ``session_id``, ``url``, ``sku`` and ``properties`` as JSON values (arrays, or one
        literal such as ``null`` for every row).
    channel : str
        Segment channel (``browser``, ``mobile``, ``server``).

    Returns
    -------
    pyarrow.Array
        One JSON object per event.
    """
    return formats.json_objects(
        [
            ("messageId", ev["event_id"], "str"),
            ("timestamp", ev["timestamp"], "str"),
            ("event", ev["event"], "str"),
            ("userId", ev["user_id"]),
            ("anonymousId", ev["anonymous_id"]),
            ("sessionId", ev["session_id"]),
            ("channel", channel, "str"),
            ("page_url", ev["url"]),
            ("sku", ev["sku"]),
            ("properties", ev["properties"]),
        ],
        end="\n",
    )


def open_files(out_dir: Path) -> dict[str, NativeFile]:
    """Create every source file of a demo, in ingestion order, keyed by a short name."""
    store = {"delimiter": ";", "encoding": "latin-1", "quoting": "none"}
    spec = (
        ("stores", "store/magasins.csv", "stores", "store", store),
        (
            "products",
            "catalogue/articles.tsv",
            "products",
            "catalogue",
            {"delimiter": "\t", "quoting": "none"},
        ),
        ("store_customers", "store/clients.csv", "customers", "store", store),
        ("web_customers", "web/accounts.csv", "customers", "web", {"delimiter": ","}),
        ("app_customers", "app/users.jsonl", "customers", "app", {}),
        (
            "emailing_customers",
            "emailing/contacts.csv",
            "customers",
            "emailing",
            {"delimiter": ","},
        ),
        ("service_customers", "service/requesters.csv", "customers", "service", {"delimiter": ","}),
        ("store_orders", "store/tickets.csv", "orders", "store", store),
        ("web_orders", "web/orders.jsonl", "orders", "web", {}),
        ("store_lines", "store/lignes.csv", "order-lines", "store", store),
        ("web_lines", "web/order_items.csv", "order-lines", "web", {"delimiter": ","}),
        ("store_consents", "store/consentements.csv", "consents", "store", store),
        ("web_consents", "web/consents.csv", "consents", "web", {"delimiter": ","}),
        ("app_consents", "app/push_consents.jsonl", "consents", "app", {}),
        ("web_events", "web/events.jsonl", "events", "web", {}),
        ("web_deliveries", "web/deliveries.jsonl", "events", "web", {}),
        ("web_campaigns", "web/campaigns.jsonl", "events", "web", {}),
        ("app_events", "app/events.jsonl", "events", "app", {}),
        ("emailing_events", "emailing/activity.jsonl", "events", "emailing", {}),
        ("service_events", "service/events.jsonl", "events", "service", {}),
    )
    return {
        key: NativeFile(out_dir / rel, kind, source, **kw) for key, rel, kind, source, kw in spec
    }


def write_chunk(rng: np.random.Generator, chunk: Chunk) -> None:
    """Append one chunk's records, orders, lines, consents and events to every source file.

    Parameters
    ----------
    rng : numpy.random.Generator
        The chunk's random source (for what only the native shapes need: a title, an app
        version, the position of the planted bad rows).
    chunk : Chunk
        What was drawn for the chunk.
    """
    rec, cons = chunk.records, chunk.consents
    _write_store(rng, chunk, rec["store"], cons["store"], chunk.is_store_order)
    _write_web(rng, chunk, rec["web"], cons["web"], chunk.online, chunk.web_created, chunk.research)
    _write_app(rng, chunk, rec["app"], cons["app"], chunk.app_created)
    _write_emailing(rng, chunk, rec["emailing"], chunk.subscriptions, chunk.camps)
    _write_service(
        rng, chunk, rec["service"], chunk.ticket_rows, chunk.surveys, chunk.is_store_order
    )


# -- store --------------------------------------------------------------------------------
def _write_store(rng, ctx: Chunk, src: SourceRecords, cons: Columns, is_store_order) -> None:
    r = src.records
    files = ctx.files
    civ = pa.array(np.array(["MME", "M", ""])[r["gender"]])
    thirty = (ctx.cal.as_of - date(1970, 1, 1)).days - 30 * 365
    young = (r["gender"] == 0) & (ctx.p["birth"][r["person"]] > thirty)
    civ = pc.if_else(pa.array(young & (rng.random(r.rows) < 0.1)), "MLLE", civ)
    files["store_customers"].write_csv(
        {
            "ID_CLIENT": r["source_id"],
            "NUM_CARTE": r["loyalty_id"],
            "CIVILITE": civ,
            "NOM": r["last_name"],
            "PRENOM": r["first_name"],
            "DATE_NAISSANCE": formats.dates(r["birth"], STORE_DATE),
            "EMAIL": r["email"],
            "TELEPHONE": r["phone"],
            "ADRESSE": r["address_line1"],
            "ADRESSE2": r["address_line2"],
            "CODE_POSTAL": r["postal_code"],
            "VILLE": r["city"],
            "DATE_CREATION": ctx.ts(r["created"], STORE_DATE),
            "MAG_RATTACHEMENT": pa.array([s.code for s in STORES]).take(
                pa.array(ctx.p["store"][r["person"]].astype(np.int64))
            ),
        }
    )

    o = ctx.orders
    idx = np.flatnonzero(is_store_order)
    idx = idx[np.argsort(o["t"][idx], kind="stable")]
    store_codes = pa.array([s.code for s in STORES])
    tickets = {
        "NUM_TICKET": ctx.order_id.take(pa.array(idx)),
        "ID_CLIENT": ctx.customer_id.take(pa.array(idx)),
        "DATE_HEURE": ctx.ts(o["t"][idx], STORE_DATETIME),
        "CODE_MAG": store_codes.take(pa.array(o["store"][idx].astype(np.int64))),
        "CANAL": pa.array(np.where(o["channel"][idx] == PHONE, CANAL["phone"], CANAL["store"])),
        "MONTANT_TTC": formats.money(o["total_cents"][idx], ","),
        "REMISE": formats.money(o["discount_cents"][idx], ","),
        "DEVISE": pa.array(np.full(len(idx), "EUR")),
        "STATUT": pa.array(np.array(STATUT)[o["status"][idx]]),
    }
    _write_with_bad_rows(rng, ctx, files["store_orders"], tickets, "tickets")

    lines = ctx.lines
    rank = np.full(o.rows, -1, np.int64)
    rank[idx] = np.arange(len(idx))
    li = np.flatnonzero(is_store_order[lines["order"]])
    li = li[np.lexsort((lines["line_no"][li], rank[lines["order"][li]]))]
    rayon = pa.array([c.rayon for c in CATEGORIES])
    table = {
        "NUM_TICKET": ctx.order_id.take(pa.array(lines["order"][li])),
        "NUM_LIGNE": formats.integers(lines["line_no"][li]),
        "CODE_ARTICLE": ctx.cat.sku.take(pa.array(lines["product"][li])),
        "RAYON": rayon.take(pa.array(lines["category"][li].astype(np.int64))),
        "QTE": formats.integers(lines["quantity"][li]),
        "PRIX_UNIT": formats.money(lines["unit_cents"][li], ","),
        "MONTANT": formats.money(lines["amount_cents"][li], ","),
    }
    _write_with_bad_rows(
        rng,
        ctx,
        files["store_lines"],
        table,
        "lines",
        last_line=np.r_[lines["order"][li][1:] != lines["order"][li][:-1], True],
    )

    channel = pa.array(np.array(["EMAIL", "SMS", "PUSH", "COURRIER"])[cons["channel"]])
    files["store_consents"].write_csv(
        {
            "ID_CLIENT": r["source_id"].take(pa.array(cons["record"])),
            "CANAL_CONTACT": channel,
            "OPTIN": pa.array(np.where(cons["granted"], "O", "N")),
            "DATE_MAJ": ctx.ts(cons["t"], STORE_DATE),
        }
    )


def _write_with_bad_rows(
    rng,
    ctx: Chunk,
    out: NativeFile,
    table: dict[str, pa.Array],
    what: str,
    last_line: np.ndarray | None = None,
) -> None:
    """Write rows with a few planted bad ones inserted, and record where they are."""
    n = len(next(iter(table.values())))
    reasons = BAD_ROWS.ticket_reasons if what == "tickets" else BAD_ROWS.line_reasons
    rate = BAD_ROWS.rate if what == "tickets" else BAD_ROWS.rate / 2
    m = int(round(rate * n))
    if out.rows == 0 and n:
        m = max(m, len(reasons))  # every kind of bad row shows at least once
    if not n or not m:
        out.write_csv(table)
        return
    if what == "tickets":
        src = rng.integers(0, n, m)
    else:
        src = np.flatnonzero(last_line)[rng.integers(0, int(last_line.sum()), m)]
        src = np.unique(src)  # one extra line per ticket keeps (ticket, line) unique
        m = len(src)
    bad = {k: v.take(pa.array(src)) for k, v in table.items()}
    records = []
    kinds = np.arange(m) % len(reasons)
    if what == "tickets":
        fresh = formats.integers(3_000_000_000 + ctx.totals.next_ids("bad_ticket", m))
        bad["NUM_TICKET"] = fresh
        year = np.array([s[6:10] for s in bad["DATE_HEURE"].to_pylist()])
        edits = {
            0: ("MONTANT_TTC", "total_amount", lambda i: "-" + bad["MONTANT_TTC"][i].as_py()),
            1: ("DATE_HEURE", "ordered_at", lambda i: f"31/02/{year[i]} 10:15"),
            2: ("CANAL", "channel", lambda i: "KIOSQUE"),
            3: ("NUM_TICKET", "order_id", lambda i: ""),
        }
    else:
        line_no = np.array([int(x) + 1 for x in bad["NUM_LIGNE"].to_pylist()])
        bad["NUM_LIGNE"] = formats.integers(line_no)
        edits = {
            0: ("QTE", "quantity", lambda i: "-" + bad["QTE"][i].as_py()),
            1: ("CODE_ARTICLE", "sku", lambda i: ""),
        }
    values = {k: v.to_pylist() for k, v in bad.items()}
    for i in range(m):  # a handful of rows: 0.1% of the file
        column, canonical, edit = edits[int(kinds[i])]
        values[column][i] = edit(i)
        records.append(
            {
                "column": column,
                "field": canonical,
                "reason": reasons[int(kinds[i])],
                "value": values[column][i],
                "order_id": values["NUM_TICKET"][i],
            }
        )
    bad = {k: pa.array(v, pa.string()) for k, v in values.items()}
    position = np.sort(rng.choice(n + m, m, replace=False))
    is_bad = np.zeros(n + m, bool)
    is_bad[position] = True
    source = np.empty(n + m, np.int64)
    source[~is_bad] = np.arange(n)
    source[is_bad] = n + np.arange(m)
    merged = {k: pa.concat_arrays([table[k], bad[k]]).take(pa.array(source)) for k in table}
    first = out.rows + 2
    out.write_csv(merged)
    for rec, pos in zip(records, position, strict=True):
        ctx.totals.bad_rows.append(
            {
                "file": str(out.path.relative_to(out.path.parent.parent)),
                "source": out.source,
                "kind": out.kind,
                "line": int(first + pos),
                **rec,
            }
        )


# -- web ----------------------------------------------------------------------------------
def _write_web(
    rng, ctx: Chunk, src: SourceRecords, cons: Columns, online, web_created, research
) -> None:
    r = src.records
    files = ctx.files
    title = np.array(["Mrs", "Mr", "Mx"])[r["gender"]]
    title = np.where((r["gender"] == 0) & (rng.random(r.rows) < 0.2), "Ms", title)
    files["web_customers"].write_csv(
        {
            "account_id": r["source_id"],
            "title": pa.array(title),
            "firstname": r["first_name"],
            "lastname": r["last_name"],
            "mail": r["email"],
            "mobile": r["phone"],
            "dob": formats.dates(r["birth"]),
            "street": r["address_line1"],
            "street2": r["address_line2"],
            "zip": r["postal_code"],
            "town": r["city"],
            "country": pa.array(np.full(r.rows, "FR")),
            "signup_date": ctx.ts(r["created"], "%Y-%m-%d %H:%M:%S"),
        }
    )

    o = ctx.orders
    idx = np.flatnonzero(online)
    idx = idx[np.argsort(o["t"][idx], kind="stable")]
    q = formats.quoted
    store_codes = pa.array([s.code for s in STORES])
    pickup = take_or_null(store_codes, np.where(o["pickup"][idx], o["store"][idx], -1))
    objects = formats.json_objects(
        [
            ("id", q(ctx.order_id.take(pa.array(idx)))),
            ("account", q(ctx.customer_id.take(pa.array(idx)))),
            ("created", q(ctx.ts(o["t"][idx]))),
            ("device", q(pa.array(np.where(o["channel"][idx] == APP, "app", "web")))),
            ("grand_total", formats.money(o["total_cents"][idx])),
            ("discount", formats.money(o["discount_cents"][idx])),
            ("currency", '"EUR"'),
            ("state", q(pa.array(np.array(WEB_STATES)[o["status"][idx]]))),
            ("pickup_store", q(pickup)),
            ("items", formats.integers(o["lines"][idx])),
        ],
        end="\n",
    )
    files["web_orders"].write_jsonl(objects)

    lines = ctx.lines
    rank = np.full(o.rows, -1, np.int64)
    rank[idx] = np.arange(len(idx))
    li = np.flatnonzero(online[lines["order"]])
    li = li[np.lexsort((lines["line_no"][li], rank[lines["order"][li]]))]
    files["web_lines"].write_csv(
        {
            "order_id": ctx.order_id.take(pa.array(lines["order"][li])),
            "position": formats.integers(lines["line_no"][li]),
            "product_sku": ctx.cat.sku.take(pa.array(lines["product"][li])),
            "product_type": ctx.cat.category_code.take(pa.array(lines["product"][li])),
            "qty_ordered": formats.integers(lines["quantity"][li]),
            "price": formats.money(lines["unit_cents"][li]),
            "row_total": formats.money(lines["amount_cents"][li]),
        }
    )

    files["web_consents"].write_csv(
        {
            "account_id": r["source_id"].take(pa.array(cons["record"])),
            "topic": pa.array(
                np.where(
                    cons["channel"] == CONSENT_CHANNELS.index("email"), "newsletter", "sms_offers"
                )
            ),
            "subscribed": pa.array(np.where(cons["granted"], "yes", "no")),
            "updated_at": ctx.ts(cons["t"]),
        }
    )

    # Browsing: the sessions behind the orders, research before store purchases, prospects.
    users = src.ids(src.primary)
    order_users = ctx.customer_id
    sessions = Columns.concat(
        [
            funnel_sessions(rng, o, lines, WEB, FUNNELS["web"], web_created),
            research_sessions(rng, o, lines, research, np.nan_to_num(web_created, nan=np.inf)),
            prospect_sessions(
                rng,
                int(rng.poisson(PROSPECT_SESSIONS_PER_ORDER * len(idx))),
                float(ctx.cal.days),
                ctx.cat,
            ),
        ]
    )
    _write_sessions(rng, ctx, sessions, "web", users, order_users, files["web_events"])

    # Delivery notifications of the web shop's order system.
    d = np.flatnonzero(o["delivered"] & (o["person"] >= 0))
    d = d[np.argsort(o["delivered_t"][d], kind="stable")]
    props = formats.json_objects(
        [
            ("order_id", q(ctx.order_id.take(pa.array(d)))),
            ("promised_days", formats.integers(o["promised"][d])),
            ("actual_days", formats.integers(o["actual"][d])),
            ("late", formats.booleans(o["late"][d])),
            ("carrier", q(pa.array(np.array(CARRIERS)[d % len(CARRIERS)]))),
        ]
    )
    ev = {
        "event_id": hex_ids(ctx.totals.next_ids("web_event", len(d)), 21),
        "timestamp": ctx.ts(o["delivered_t"][d]),
        "event": "order_delivered",
        "user_id": formats.quoted(ctx.customer_id.take(pa.array(d))),
        "anonymous_id": "null",
        "session_id": "null",
        "url": "null",
        "sku": "null",
        "properties": props,
    }
    files["web_deliveries"].write_jsonl(segment_objects(ev, "server"))
    ctx.totals.events += len(d)


def _write_sessions(
    rng,
    ctx: Chunk,
    sessions: Columns,
    channel: str,
    users: pa.Array,
    order_users: pa.Array,
    out: NativeFile,
) -> None:
    ev = session_events(rng, sessions)
    ev = ev.take(np.argsort(ev["t"], kind="stable"))
    p = ctx.p
    person = sessions["person"]
    device_key = np.where(person >= 0, p["gid"][np.maximum(person, 0)] * 4 + sessions["device"], 0)
    prospects = person < 0
    prospect_key = ctx.totals.next_ids("prospect", int(prospects.sum()))
    cookies = hex_ids(device_key, 77)
    cookies = pc.if_else(
        pa.array(prospects), _scatter(hex_ids(prospect_key, 78), prospects), cookies
    )
    sess_ids = hex_ids(ctx.totals.next_ids(f"{channel}_session", sessions.rows), 31)
    ev_ids = hex_ids(
        ctx.totals.next_ids(f"{channel}_event", ev.rows), 21 if channel == "web" else 22
    )
    users, order_users = formats.quoted(users), formats.quoted(order_users)
    cookies, sess_ids = formats.quoted(cookies), formats.quoted(sess_ids)
    segment = "browser" if channel == "web" else "mobile"
    for lo in range(0, ev.rows, EVENTS_PER_WRITE):  # bounded memory for the text
        part = np.arange(lo, min(lo + EVENTS_PER_WRITE, ev.rows))
        text = render_events(
            ev.take(part),
            sessions,
            channel,
            users,
            order_users,
            ctx.order_id,
            ctx.orders["total_cents"],
            cookies,
            sess_ids,
            ev_ids.slice(lo, len(part)),
            ctx.cat,
            ctx.cal.start,
        )
        out.write_jsonl(segment_objects(text, segment))
    ctx.totals.events += ev.rows
    stage = sessions["stage"]
    carted = (stage >= CART) & (stage != LOYALTY_CARD)
    ctx.totals.add(f"funnel_{channel}_cart_sessions", carted.sum())
    ctx.totals.add(f"funnel_{channel}_purchase_sessions", (stage == BUY).sum())
    ctx.totals.add(
        f"funnel_{channel}_checkout_sessions", ((stage >= CHECKOUT) & (stage != LOYALTY_CARD)).sum()
    )


def _scatter(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """A full-length array with ``values`` at the true positions of ``mask``."""
    idx = np.cumsum(mask) - 1
    return (
        take_or_null(values, np.where(mask, idx, -1))
        if len(values)
        else pa.nulls(len(mask), pa.string())
    )


# -- app ----------------------------------------------------------------------------------
def _write_app(rng, ctx: Chunk, src: SourceRecords, cons: Columns, app_created) -> None:
    r = src.records
    files = ctx.files
    q = formats.quoted
    os_name = np.where(rng.random(r.rows) < 0.55, "ios", "android")
    version = np.array(["4.2.0", "4.3.1", "5.0.2"])[rng.integers(0, 3, r.rows)]
    files["app_customers"].write_jsonl(
        formats.json_objects(
            [
                ("uid", q(r["source_id"])),
                ("email", q(r["email"])),
                ("phone_number", q(r["phone"])),
                ("given_name", q(r["first_name"])),
                ("family_name", q(r["last_name"])),
                ("birthdate", q(formats.dates(r["birth"]))),
                ("postcode", q(r["postal_code"])),
                ("registered_at", q(ctx.ts(r["created"]))),
                ("os", q(pa.array(os_name))),
                ("app_version", q(pa.array(version))),
            ]
        )
    )
    files["app_consents"].write_jsonl(
        formats.json_objects(
            [
                ("uid", q(r["source_id"].take(pa.array(cons["record"])))),
                ("push_enabled", formats.booleans(cons["granted"])),
                ("changed_at", q(ctx.ts(cons["t"]))),
            ]
        )
    )
    o = ctx.orders
    users = src.ids(src.primary)
    order_users = take_or_null(users, np.where(o["person"] >= 0, o["person"], -1))
    sessions = Columns.concat(
        [
            funnel_sessions(rng, o, ctx.lines, APP, FUNNELS["app"], app_created),
            loyalty_card_sessions(rng, o, app_created),
        ]
    )
    _write_sessions(rng, ctx, sessions, "app", users, order_users, files["app_events"])


# -- e-mail platform ----------------------------------------------------------------------
def _write_emailing(rng, ctx: Chunk, src: SourceRecords, subs: Columns, camps: Columns) -> None:
    r = src.records
    files = ctx.files
    files["emailing_customers"].write_csv(
        {
            "Email Address": r["email"],
            "First Name": r["first_name"],
            "Last Name": r["last_name"],
            "MEMBER_RATING": formats.integers(rng.integers(1, 6, r.rows)),
            "OPTIN_TIME": ctx.ts(r["created"], "%Y-%m-%d %H:%M:%S"),
            "LEID": r["source_id"],
        }
    )
    festive = np.array([b == "festive" for b in BEHAVIOUR_NAMES])
    contacts = Columns(
        subscribed=subs["subscribed"][r["person"]],
        unsubscribed=subs["unsubscribed"][r["person"]],
        festive=festive[ctx.p["behaviour"][r["person"]]],
    )
    act = email_activity(rng, contacts, camps, float(ctx.cal.days))
    q = formats.quoted
    camp_id = pa.array(camps["campaign_id"]).take(pa.array(act["campaign"]))
    campaign = formats.json_objects(
        [
            ("id", q(camp_id)),
            ("name", q(pa.array(camps["name"]).take(pa.array(act["campaign"])))),
        ]
    )
    url = formats.join(f"https://{WEB_DOMAIN}/?utm_campaign=", camp_id)
    url = pc.if_else(pa.array(act["action"] == 2), url, pa.nulls(act.rows, pa.string()))
    files["emailing_events"].write_jsonl(
        formats.json_objects(
            [
                ("id", q(hex_ids(ctx.totals.next_ids("email_event", act.rows), 41))),
                ("contact_id", q(r["source_id"].take(pa.array(act["contact"])))),
                ("action", q(pa.array(np.array(ACTIONS)[act["action"]]))),
                ("timestamp", q(ctx.ts(act["t"]))),
                ("campaign", campaign),
                ("url", q(url)),
            ],
            end="\n",
        )
    )
    ctx.totals.events += act.rows


# -- customer service ---------------------------------------------------------------------
def _write_service(
    rng, ctx: Chunk, src: SourceRecords, tickets: np.ndarray, surveys: Columns, is_store_order
) -> None:
    r = src.records
    files = ctx.files
    files["service_customers"].write_csv(
        {
            "requester_id": r["source_id"],
            "first_name": r["first_name"],
            "last_name": r["last_name"],
            "email": r["email"],
            "phone": r["phone"],
            "created_at": ctx.ts(r["created"]),
        }
    )
    o = ctx.orders
    q = formats.quoted
    ticket_no = ctx.totals.next_ids("support_ticket", len(tickets))
    ticket_id = formats.join("TCK-", formats.integers(100_000 + ticket_no))
    order_src = pa.array(np.where(is_store_order[tickets], "store", "web"))
    requester = src.ids(src.primary[o["person"][tickets]])
    opened = formats.json_objects(
        [
            ("ticket_id", q(ticket_id)),
            ("topic", q(pa.array(np.array(TICKET_TOPICS)[o["topic"][tickets]]))),
            ("order_id", q(ctx.order_id.take(pa.array(tickets)))),
            ("order_source", q(order_src)),
        ]
    )
    hours = np.round((o["closed_t"][tickets] - o["opened_t"][tickets]) * 24, 1)
    closed = formats.json_objects(
        [
            ("ticket_id", q(ticket_id)),
            ("resolved", formats.booleans(o["resolved"][tickets])),
            ("hours", pc.cast(pa.array(hours), pa.string())),
        ]
    )
    via = pa.array(np.array(TICKET_VIA)[o["via"][tickets]])
    sv = surveys["order"]
    answer = formats.json_objects(
        [
            ("survey", '"post_delivery"'),
            ("order_id", q(ctx.order_id.take(pa.array(sv)))),
            ("score", formats.integers(surveys["score"])),
        ]
    )
    k, m = len(tickets), surveys.rows
    ev = Columns(
        type=pa.concat_arrays(
            [
                pa.array(np.full(k, "ticket_opened")),
                pa.array(np.full(k, "ticket_closed")),
                pa.array(np.full(m, "survey_response")),
            ]
        ),
        requester=pa.concat_arrays([requester, requester, src.ids(src.primary[o["person"][sv]])]),
        t=np.concatenate([o["opened_t"][tickets], o["closed_t"][tickets], surveys["t"]]),
        via=pa.concat_arrays([via, via, pa.array(np.full(m, "email"))]),
        details=pa.concat_arrays([opened, closed, answer]),
    )
    ev = ev.take(np.argsort(ev["t"], kind="stable"))
    files["service_events"].write_jsonl(
        formats.json_objects(
            [
                ("event_id", q(hex_ids(ctx.totals.next_ids("service_event", ev.rows), 51))),
                ("type", q(ev["type"])),
                ("requester_id", q(ev["requester"])),
                ("created_at", q(ctx.ts(ev["t"]))),
                ("via", q(ev["via"])),
                ("details", ev["details"]),
            ],
            end="\n",
        )
    )
    ctx.totals.events += ev.rows
