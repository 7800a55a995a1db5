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
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from parcours.demo import formats
from parcours.demo.catalogue import CATEGORIES, PRODUCTS, STORES

STORE_ENCODING = "latin-1"
STORE_DATE = "%d/%m/%Y"
STORE_DATETIME = "%d/%m/%Y %H:%M"
CANAL = {"store": "MAG", "phone": "TEL"}
STATUT = ("VALIDE", "ANNULE", "RETOUR")
WEB_STATES = ("complete", "canceled", "refunded")
SEGMENT_CHANNEL = {"web": "browser", "app": "mobile", "server": "server"}


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


def segment_objects(ev, channel: pa.Array | str) -> pa.Array:
    """Segment-like JSON objects from rendered event fields.

    Parameters
    ----------
    ev : Columns
        ``event_id``, ``timestamp``, ``event``, ``user_id``, ``anonymous_id``,
        ``session_id``, ``url``, ``sku``, ``properties`` (rendered JSON object).
    channel : pyarrow.Array or str
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
            ("userId", ev["user_id"], "str?"),
            ("anonymousId", ev["anonymous_id"], "str?"),
            ("sessionId", ev["session_id"], "str?"),
            ("channel", channel, "str"),
            ("page_url", ev["url"], "str?"),
            ("sku", ev["sku"], "str?"),
            ("properties", ev["properties"], "raw?"),
        ]
    )
