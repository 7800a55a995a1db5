"""Canonical tables and columns: the single source of truth.

Validation, table creation, the documentation (``docs/data-model.md``) and the tests all read
these specs; a table or column name is spelled here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Dtype = Literal["string", "float64", "int64", "boolean", "timestamp", "date", "json"]

ORDER_CHANNELS = ("store", "web", "app", "phone", "marketplace", "other")
CONSENT_CHANNELS = ("email", "sms", "push", "post", "phone")
EVENT_CHANNELS = tuple(dict.fromkeys(ORDER_CHANNELS + CONSENT_CHANNELS))
ORDER_STATUSES = ("completed", "cancelled", "returned")
GENDERS = ("f", "m", "x")


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column.

    ``normalizer`` names a cleaning rule of ``ingest.normalize`` applied before validation;
    ``vocabulary`` lists the accepted values (after the source's value map, lower-cased).
    An invalid *optional* value becomes null and is counted as a data-quality finding; an
    invalid or missing *required* value sends the row to quarantine.
    """

    name: str
    dtype: Dtype
    doc: str
    required: bool = False
    vocabulary: tuple[str, ...] | None = None
    min_value: float | None = None
    normalizer: Literal["email", "phone", "lower", "currency", "country"] | None = None
    default: str | None = None  # value of a missing optional field


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its columns, its key, and what it means."""

    name: str
    doc: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    kind: str | None = None  # the CLI word of an input table (`parcours ingest KIND`)
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one of these columns must be present
    keeps_extra: bool = False  # unknown input columns are kept in ``attributes``

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def input_columns(self) -> tuple[ColumnSpec, ...]:
        """The columns a source file provides (lineage columns are added by ingestion)."""
        return tuple(c for c in self.columns if c.name not in LINEAGE_NAMES)


# Lineage columns carried by every ingested row.
SOURCE = "source"
SOURCE_FILE = "source_file"
SOURCE_LINE = "source_line"
INGESTED_AT = "ingested_at"
ATTRIBUTES = "attributes"

LINEAGE = (
    ColumnSpec(SOURCE, "string", "Name of the source system the row came from.", required=True),
    ColumnSpec(SOURCE_FILE, "string", "File name the row was read from (or `api`)."),
    ColumnSpec(SOURCE_LINE, "int64", "Line of the row in that file (header is line 1)."),
    ColumnSpec(INGESTED_AT, "timestamp", "When the row was loaded (UTC)."),
)
LINEAGE_NAMES = frozenset(c.name for c in LINEAGE)

C = ColumnSpec

CUSTOMERS = TableSpec(
    "customers",
    "Customer records as each source holds them; several may describe one person.",
    (
        C("source_id", "string", "The customer's id in its source system.", required=True),
        C("email", "string", "Email, trimmed and lower-cased.", normalizer="email"),
        C("phone", "string", "Phone in E.164 (`+33612345678`).", normalizer="phone"),
        C("first_name", "string", "First name."),
        C("last_name", "string", "Last name."),
        C("birth_date", "date", "Date of birth."),
        C("gender", "string", "f, m or x.", vocabulary=GENDERS, normalizer="lower"),
        C("address_line1", "string", "Street address."),
        C("address_line2", "string", "Address complement."),
        C("postal_code", "string", "Postal code."),
        C("city", "string", "City."),
        C("region", "string", "Region."),
        C("country", "string", "ISO 3166 alpha-2 country code.", normalizer="country"),
        C("loyalty_id", "string", "Loyalty card number."),
        C("created_at", "timestamp", "When the source created the record."),
        C(ATTRIBUTES, "json", "Any other input column, kept by name in a JSON object."),
        *LINEAGE,
    ),
    key=(SOURCE, "source_id"),
    kind="customers",
    keeps_extra=True,
)

ORDERS = TableSpec(
    "orders",
    "One row per order or till receipt, from every channel.",
    (
        C("order_id", "string", "The order's id in its source.", required=True),
        C("customer_id", "string", "The source's customer id; empty for an anonymous sale."),
        C("ordered_at", "timestamp", "When the order was placed.", required=True),
        C(
            "channel",
            "string",
            "Sales channel.",
            required=True,
            vocabulary=ORDER_CHANNELS,
            normalizer="lower",
        ),
        C("store_id", "string", "Store of a store sale or of a click-and-collect pick-up."),
        C(
            "total_amount",
            "float64",
            "Amount paid, taxes included, after discount.",
            required=True,
            min_value=0,
        ),
        C("discount_amount", "float64", "Discount granted on the order.", min_value=0),
        C(
            "currency",
            "string",
            "ISO 4217 code; the workspace currency when absent.",
            normalizer="currency",
        ),
        C(
            "status",
            "string",
            "completed, cancelled or returned; completed when absent.",
            vocabulary=ORDER_STATUSES,
            normalizer="lower",
            default="completed",
        ),
        *LINEAGE,
    ),
    key=(SOURCE, "order_id"),
    kind="orders",
)

ORDER_LINES = TableSpec(
    "order_lines",
    "The products of each order.",
    (
        C("order_id", "string", "The order's id in its source.", required=True),
        C("line_no", "int64", "Line number within the order.", required=True, min_value=0),
        C("sku", "string", "Product code.", required=True),
        C("category", "string", "Product category."),
        C("quantity", "float64", "Quantity bought.", required=True, min_value=0),
        C("unit_price", "float64", "Unit price.", min_value=0),
        C("amount", "float64", "Line amount paid.", required=True, min_value=0),
        *LINEAGE,
    ),
    key=(SOURCE, "order_id", "line_no"),
    kind="order-lines",
)

EVENTS = TableSpec(
    "events",
    "Interactions: page and product views, carts, emails, deliveries, surveys, tickets.",
    (
        C("event_id", "string", "The event's id in its source.", required=True),
        C("occurred_at", "timestamp", "When it happened.", required=True),
        C(
            "type",
            "string",
            "Event type (`page_view`, `add_to_cart`, `email_open`...).",
            required=True,
            normalizer="lower",
        ),
        C(
            "channel",
            "string",
            "Channel or medium of the event.",
            vocabulary=EVENT_CHANNELS,
            normalizer="lower",
        ),
        C("customer_id", "string", "The source's customer id, when known."),
        C("anonymous_id", "string", "Cookie or device id of a visitor not yet identified."),
        C("session_id", "string", "Browsing session."),
        C("url", "string", "Page address."),
        C("sku", "string", "Product concerned."),
        C("properties", "json", "Other properties, as a JSON object."),
        *LINEAGE,
    ),
    key=(SOURCE, "event_id"),
    kind="events",
    one_of=(("customer_id", "anonymous_id"),),
)

CONSENTS = TableSpec(
    "consents",
    "Opt-in and opt-out decisions per contact channel, dated.",
    (
        C("customer_id", "string", "The source's customer id.", required=True),
        C(
            "channel",
            "string",
            "Contact channel.",
            required=True,
            vocabulary=CONSENT_CHANNELS,
            normalizer="lower",
        ),
        C("granted", "boolean", "True for an opt-in, false for an opt-out.", required=True),
        C("recorded_at", "timestamp", "When the decision was recorded.", required=True),
        *LINEAGE,
    ),
    key=(SOURCE, "customer_id", "channel", "recorded_at"),
    kind="consents",
)

PRODUCTS = TableSpec(
    "products",
    "The catalogue.",
    (
        C("sku", "string", "Product code.", required=True),
        C("name", "string", "Product name."),
        C("category", "string", "Category."),
        C("family", "string", "Product family (a group of categories)."),
        C("price", "float64", "Catalogue price.", min_value=0),
        *LINEAGE,
    ),
    key=("sku",),
    kind="products",
)

STORES = TableSpec(
    "stores",
    "Physical stores.",
    (
        C("store_id", "string", "Store code.", required=True),
        C("name", "string", "Store name."),
        C("city", "string", "City."),
        C("postal_code", "string", "Postal code."),
        C("region", "string", "Region."),
        C("tourist_area", "boolean", "True when the store is in a tourist area."),
        *LINEAGE,
    ),
    key=("store_id",),
    kind="stores",
)

QUARANTINE = TableSpec(
    "quarantine",
    "Input rows refused by validation, with every reason; nothing read is lost.",
    (
        C("kind", "string", "Input kind (`orders`, `customers`...).", required=True),
        C(SOURCE, "string", "Source name.", required=True),
        C(SOURCE_FILE, "string", "File name.", required=True),
        C(SOURCE_LINE, "int64", "Line in the file.", required=True),
        C("raw", "json", "The row as read, as a JSON object of column: text.", required=True),
        C("reasons", "string", "Every reason, separated by `; `.", required=True),
        C(INGESTED_AT, "timestamp", "When the row was read.", required=True),
    ),
    key=("kind", SOURCE, SOURCE_FILE, SOURCE_LINE),
)

DATA_QUALITY = TableSpec(
    "data_quality",
    "Optional values that were invalid and set to null, counted per file and field.",
    (
        C("kind", "string", "Input kind.", required=True),
        C(SOURCE, "string", "Source name.", required=True),
        C(SOURCE_FILE, "string", "File name.", required=True),
        C("field", "string", "Canonical column.", required=True),
        C("finding", "string", "What was wrong.", required=True),
        C("rows", "int64", "How many rows had it.", required=True),
        C("example", "string", "One offending value."),
        C(INGESTED_AT, "timestamp", "When the file was read.", required=True),
    ),
    key=("kind", SOURCE, SOURCE_FILE, "field", "finding"),
)

INGEST_LOG = TableSpec(
    "ingest_log",
    "One row per ingested file: what was read, loaded and quarantined.",
    (
        C("kind", "string", "Input kind.", required=True),
        C(SOURCE, "string", "Source name.", required=True),
        C(SOURCE_FILE, "string", "File name.", required=True),
        C("sha256", "string", "Content hash of the file.", required=True),
        C("rows_read", "int64", "Rows read.", required=True),
        C("rows_loaded", "int64", "Rows valid (new, updated or already present).", required=True),
        C("rows_new", "int64", "Rows not present before.", required=True),
        C("rows_updated", "int64", "Rows whose key existed with other values.", required=True),
        C("rows_quarantined", "int64", "Rows sent to quarantine.", required=True),
        C(INGESTED_AT, "timestamp", "When the file was ingested.", required=True),
    ),
)

CUSTOMER_KEY = "customer_key"
KEY_DOC = "The person: stable id of the single customer view."
IDENTITY_METHODS = ("single", "email", "phone", "loyalty_id", "account", "probabilistic", "forced")

IDENTITY_MAP = TableSpec(
    "identity_map",
    "Every customer record -> the person it belongs to (the single customer view).",
    (
        C(SOURCE, "string", "Source of the record.", required=True),
        C("source_id", "string", "The record's id in its source.", required=True),
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C(
            "method",
            "string",
            "Strongest evidence joining the record to its person (`single` when alone).",
            required=True,
            vocabulary=IDENTITY_METHODS,
        ),
        C("resolved_at", "timestamp", "When the record was first resolved.", required=True),
    ),
    key=(SOURCE, "source_id"),
)

IDENTITY_EDGES = TableSpec(
    "identity_edges",
    "Evidence that two customer records are one person, kept for incremental runs.",
    (
        C("left_source", "string", "Source of the first record.", required=True),
        C("left_id", "string", "Id of the first record.", required=True),
        C("right_source", "string", "Source of the second record.", required=True),
        C("right_id", "string", "Id of the second record.", required=True),
        C("method", "string", "What links them.", required=True, vocabulary=IDENTITY_METHODS),
        C("match_probability", "float64", "Probability of a match (1 for identifiers)."),
    ),
)

IDENTITY_CHANGES = TableSpec(
    "identity_changes",
    "How customer keys changed at each resolution: new persons, merges, splits.",
    (
        C("resolved_at", "timestamp", "When the resolution ran.", required=True),
        C(
            "change",
            "string",
            "`new`, `merge` (other keys absorbed) or `split` (records left this key).",
            required=True,
            vocabulary=("new", "merge", "split"),
        ),
        C(CUSTOMER_KEY, "string", "The key that was created, kept or split.", required=True),
        C("other_keys", "string", "Keys absorbed by a merge, or created by a split."),
        C("records", "int64", "Records under the key after the change.", required=True),
    ),
)

IDENTITY_REVIEW = TableSpec(
    "identity_review",
    "Suspected over-merges held apart for an analyst to review, with the reason.",
    (
        C(CUSTOMER_KEY, "string", "One of the persons held apart.", required=True),
        C("reason", "string", "Why the merge was not made.", required=True),
        C("records", "int64", "Records the merge would have joined.", required=True),
        C("detail", "string", "Records or values concerned."),
    ),
)

GOLDEN_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "gender",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "loyalty_id",
)

CUSTOMERS_GOLDEN = TableSpec(
    "customers_golden",
    "One record per person, each field chosen by the survivorship rules of the config.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        *(ColumnSpec(c.name, c.dtype, c.doc) for c in CUSTOMERS.columns if c.name in GOLDEN_FIELDS),
        C("created_at", "timestamp", "Earliest creation date among the person's records."),
        C("records", "int64", "Number of source records of the person.", required=True),
        C("sources", "string", "Sources holding the person, comma-separated.", required=True),
    ),
    key=(CUSTOMER_KEY,),
)

GOLDEN_LINEAGE = TableSpec(
    "golden_lineage",
    "Which source record gave each value of the golden record.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C("field", "string", "Golden record field.", required=True),
        C(SOURCE, "string", "Source of the record that gave the value.", required=True),
        C("source_id", "string", "Id of that record.", required=True),
        C("rule", "string", "Survivorship rule that chose it.", required=True),
    ),
    key=(CUSTOMER_KEY, "field"),
)


def _keyed(spec: TableSpec, name: str, doc: str, key_doc: str) -> TableSpec:
    return TableSpec(
        name,
        doc,
        (C(CUSTOMER_KEY, "string", key_doc), *spec.columns),
        key=spec.key,
    )


CUSTOMER_ORDERS = _keyed(
    ORDERS,
    "customer_orders",
    "Orders of every channel with the person who placed them.",
    "The person; null for an anonymous sale.",
)
CUSTOMER_EVENTS = _keyed(
    EVENTS,
    "customer_events",
    "Events with their person, anonymous browsing included once a login links the visitor.",
    "The person; null for a visitor never identified.",
)

CUSTOMER_CONSENTS = TableSpec(
    "customer_consents",
    "Each person's consent per contact channel: the most recent decision of any source.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C("channel", "string", "Contact channel.", required=True, vocabulary=CONSENT_CHANNELS),
        C("granted", "boolean", "True for an opt-in, false for an opt-out.", required=True),
        C("recorded_at", "timestamp", "When the winning decision was recorded.", required=True),
        C(SOURCE, "string", "Source of the winning decision.", required=True),
        C("customer_id", "string", "The source's customer id of the winning decision."),
    ),
    key=(CUSTOMER_KEY, "channel"),
)

IDENTITY_TABLES: tuple[TableSpec, ...] = (
    IDENTITY_MAP,
    IDENTITY_EDGES,
    IDENTITY_CHANGES,
    IDENTITY_REVIEW,
    CUSTOMERS_GOLDEN,
    GOLDEN_LINEAGE,
    CUSTOMER_ORDERS,
    CUSTOMER_EVENTS,
    CUSTOMER_CONSENTS,
)

INPUT_TABLES: tuple[TableSpec, ...] = (
    CUSTOMERS,
    ORDERS,
    ORDER_LINES,
    EVENTS,
    CONSENTS,
    PRODUCTS,
    STORES,
)
SYSTEM_TABLES: tuple[TableSpec, ...] = (QUARANTINE, DATA_QUALITY, INGEST_LOG)
# Each analysis stage declares its output tables in its own section below.

# -- customer knowledge: customer_profile, KPIs, segments, personas
KNOWLEDGE_TABLES: tuple[TableSpec, ...] = ()

# -- prediction: CLV and churn
PREDICTION_TABLES: tuple[TableSpec, ...] = ()

# -- journeys: timelines, funnels, paths, friction
JOURNEY_TABLES: tuple[TableSpec, ...] = ()

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in INPUT_TABLES
    + SYSTEM_TABLES
    + IDENTITY_TABLES
    + KNOWLEDGE_TABLES
    + PREDICTION_TABLES
    + JOURNEY_TABLES
}
KINDS: dict[str, TableSpec] = {t.kind: t for t in INPUT_TABLES if t.kind}


def input_table(kind: str) -> TableSpec:
    """Return the spec of an input kind as typed on the command line."""
    try:
        return KINDS[kind]
    except KeyError:
        from parcours.errors import UserInputError

        raise UserInputError(
            f"unknown kind '{kind}'", hint=f"use one of: {', '.join(KINDS)}"
        ) from None
