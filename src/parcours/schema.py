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

# A file's identity in the system tables: two files of one name in two folders stay apart.
FILE_PATH = "file_path"
SHA256 = "sha256"

QUARANTINE = TableSpec(
    "quarantine",
    "Input rows refused by validation, with every reason; nothing read is lost.",
    (
        C("kind", "string", "Input kind (`orders`, `customers`...).", required=True),
        C(SOURCE, "string", "Source name.", required=True),
        C(SOURCE_FILE, "string", "File name.", required=True),
        C(FILE_PATH, "string", "Absolute path of the file.", required=True),
        C(SHA256, "string", "Content hash of the file as it was read.", required=True),
        C(SOURCE_LINE, "int64", "Line in the file.", required=True),
        C("raw", "json", "The row as read, as a JSON object of column: text.", required=True),
        C("reasons", "string", "Every reason, separated by `; `.", required=True),
        C(INGESTED_AT, "timestamp", "When the row was read.", required=True),
    ),
    key=("kind", SOURCE, FILE_PATH, SHA256, SOURCE_LINE),
)

DATA_QUALITY = TableSpec(
    "data_quality",
    "Optional values that were invalid and set to null, counted per file and field.",
    (
        C("kind", "string", "Input kind.", required=True),
        C(SOURCE, "string", "Source name.", required=True),
        C(SOURCE_FILE, "string", "File name.", required=True),
        C(FILE_PATH, "string", "Absolute path of the file.", required=True),
        C(SHA256, "string", "Content hash of the file as it was read.", required=True),
        C("field", "string", "Canonical column.", required=True),
        C("finding", "string", "What was wrong.", required=True),
        C("rows", "int64", "How many rows had it.", required=True),
        C("example", "string", "One offending value."),
        C(INGESTED_AT, "timestamp", "When the file was read.", required=True),
    ),
    key=("kind", SOURCE, FILE_PATH, SHA256, "field", "finding"),
)

INGEST_LOG = TableSpec(
    "ingest_log",
    "One row per ingested file: what was read, loaded and quarantined.",
    (
        C("kind", "string", "Input kind.", required=True),
        C(SOURCE, "string", "Source name.", required=True),
        C(SOURCE_FILE, "string", "File name.", required=True),
        C(FILE_PATH, "string", "Absolute path of the file.", required=True),
        C(SHA256, "string", "Content hash of the file.", required=True),
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
        C("resolved_at", "timestamp", "When the record was last scored.", required=True),
    ),
    key=(SOURCE, "source_id"),
)

IDENTITY_EDGES = TableSpec(
    "identity_edges",
    "Evidence that two customer records are one person, kept for incremental runs.",
    (
        C("left_rid", "string", "First record, as `source:source_id`.", required=True),
        C("right_rid", "string", "Second record, as `source:source_id`.", required=True),
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
        C(
            "subject",
            "string",
            "The shared email, phone, card or device id; or the first record "
            "(`source:source_id`) of a group too large to merge.",
            required=True,
        ),
        C("reason", "string", "Why the merge was not made.", required=True),
        C("records", "int64", "Records the merge would have joined.", required=True),
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
SEGMENT_DOC = "The segment value (`all` for the whole population)."

CUSTOMER_PROFILE = TableSpec(
    "customer_profile",
    "One row per person as of a date: purchases, value, channels, categories, seasonality; "
    "segment and persona columns are added by `parcours segments` and `parcours personas`.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C(
            "as_of",
            "date",
            "The date the profile describes (purchases up to its end).",
            required=True,
        ),
        C("first_order_at", "timestamp", "First purchase."),
        C("first_channel", "string", "Channel of the first purchase."),
        C("last_order_at", "timestamp", "Last purchase."),
        C("last_channel", "string", "Channel of the last purchase."),
        C("orders", "int64", "Purchases (completed orders) up to as-of.", required=True),
        C("revenue", "float64", "Amount paid over those purchases.", required=True),
        C("average_basket", "float64", "revenue / orders."),
        C("days_since_last_order", "int64", "Calendar days from the last purchase to as-of."),
        C("days_to_second_order", "float64", "Days from the first to the second purchase."),
        C("tenure_days", "int64", "Calendar days from the first purchase to as-of."),
        C("purchase_frequency", "int64", "Purchases in the active period.", required=True),
        C("period_revenue", "float64", "Revenue in the active period.", required=True),
        C("active", "boolean", "At least one purchase in the active period.", required=True),
        C("preferred_channel", "string", "Channel of most purchases (then most revenue)."),
        C("channels", "string", "Channels used, comma-separated (`store,web`)."),
        C("channels_used", "int64", "Number of channels used.", required=True),
        C(
            "channel_mix",
            "string",
            "`store_only`, `web_only`, `app_only` (any `CHANNEL_only`) or `multichannel`.",
        ),
        C("category_mix", "json", "Share of spend per product family, as a JSON object."),
        C("favourite_family", "string", "Product family of most spend."),
        C("favourite_category", "string", "Product category of most spend."),
        C("discount_share", "float64", "Share of purchases with a discount."),
        C("festive_share", "float64", "Share of spend in the festive windows."),
        C("festive_orders", "int64", "Purchases in the festive windows.", required=True),
        C("usual_interval_days", "float64", "Median days between two consecutive purchases."),
        C("main_store", "string", "Store of most store purchases or pick-ups."),
        C("tourist_store", "boolean", "The main store is in a tourist area."),
        C("local_customer", "boolean", "Lives in the main store's region or département."),
        C(
            "age_band",
            "string",
            "Age band at as-of (`18-24` ... `65+`), when the birth date is known.",
        ),
        C("region", "string", "Home region, when known."),
        C("recency_score", "int64", "RFM recency quintile, 5 = most recent."),
        C("frequency_score", "int64", "RFM frequency quintile, 5 = most purchases."),
        C("monetary_score", "int64", "RFM monetary quintile, 5 = most revenue."),
        C("rfm_score", "string", "The three scores as text (`545`)."),
        C("rfm_segment", "string", "Named RFM segment (`champions`, `at_risk`...)."),
        C("lifecycle_segment", "string", "Lifecycle segment: first rule of lifecycle.priority."),
        C("persona", "string", "Data-driven persona (`persona_01`...), see `personas`."),
        C("marketing_persona", "string", "First persona of personas.marketing that matches."),
    ),
    key=(CUSTOMER_KEY,),
)

KPI_SEGMENTS = TableSpec(
    "kpi_segments",
    "Customer KPIs per segment of each segmentation (channel mix, RFM, lifecycle, persona).",
    (
        C(
            "dimension",
            "string",
            "The segmentation: `all`, `channel_mix`, `rfm_segment`...",
            required=True,
        ),
        C("segment", "string", SEGMENT_DOC, required=True),
        C("customers", "int64", "Customers with at least one purchase.", required=True),
        C("customer_share", "float64", "Share of the dimension's customers.", required=True),
        C("active_customers", "int64", "Customers active in the period.", required=True),
        C("activity_rate", "float64", "active_customers / customers.", required=True),
        C("purchase_frequency", "float64", "Purchases in the period per active customer."),
        C("average_basket", "float64", "Period revenue / period purchases."),
        C("period_revenue", "float64", "Revenue in the active period.", required=True),
        C("revenue_per_active", "float64", "Period revenue per active customer."),
        C("revenue_per_customer", "float64", "Lifetime revenue per customer.", required=True),
        C("revenue_share", "float64", "Share of the dimension's period revenue."),
    ),
    key=("dimension", "segment"),
)

KPI_PERIODS = TableSpec(
    "kpi_periods",
    "Customer KPIs per calendar period (profile.kpi_period).",
    (
        C("period_start", "date", "First day of the period.", required=True),
        C("buyers", "int64", "Customers with a purchase in the period.", required=True),
        C(
            "new_customers",
            "int64",
            "Customers whose first purchase is in the period.",
            required=True,
        ),
        C(
            "known_customers",
            "int64",
            "Customers recruited by the end of the period.",
            required=True,
        ),
        C("activity_rate", "float64", "buyers / known_customers.", required=True),
        C("orders", "int64", "Purchases.", required=True),
        C("revenue", "float64", "Revenue.", required=True),
        C("average_basket", "float64", "revenue / orders."),
        C("purchase_frequency", "float64", "orders / buyers."),
    ),
    key=("period_start",),
)

KPI_SECOND_PURCHASE = TableSpec(
    "kpi_second_purchase",
    "Delay before the second purchase, by channel of the first purchase.",
    (
        C(
            "first_channel",
            "string",
            "Channel of the first purchase (`all` for every one).",
            required=True,
        ),
        C("customers", "int64", "Customers recruited on that channel.", required=True),
        C("second_buyers", "int64", "Of them, customers with a second purchase.", required=True),
        C("median_days", "float64", "Median delay in days."),
        C("q1_days", "float64", "First quartile of the delay."),
        C("q3_days", "float64", "Third quartile of the delay."),
        C("mean_days", "float64", "Mean delay."),
        *(
            C(
                f"within_{d}_days",
                "float64",
                f"Share who bought again within {d} days, among customers recruited "
                f"at least {d} days before as-of.",
            )
            for d in (30, 90, 180, 365)
        ),
    ),
    key=("first_channel",),
)

KPI_RENEWAL = TableSpec(
    "kpi_renewal",
    "Renewal time per product category: each customer's median interval between two "
    "purchases of the category, summarised over customers.",
    (
        C("category", "string", "Product category.", required=True),
        C("family", "string", "Its product family."),
        C("customers", "int64", "Customers who bought the category at least twice.", required=True),
        C("median_days", "float64", "Median over customers of their median interval."),
        C("q1_days", "float64", "First quartile."),
        C("q3_days", "float64", "Third quartile."),
        C("mean_days", "float64", "Mean over customers of their median interval."),
    ),
    key=("category",),
)

CUSTOMER_CATEGORIES = TableSpec(
    "customer_categories",
    "What each person buys, as of the profile's date: one row per person and product "
    "category, from the lines of their purchases.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C("category", "string", "Product category (null for lines without one)."),
        C("family", "string", "Its product family (`unknown` when the product is not known)."),
        C("purchases", "int64", "Purchases holding the category.", required=True),
        C("amount", "float64", "Amount of its lines over those purchases.", required=True),
        C("first_purchase_at", "timestamp", "First purchase holding it."),
        C("last_purchase_at", "timestamp", "Last purchase holding it."),
        C(
            "usual_interval_days",
            "float64",
            "Median days between two purchases of the category (null with one purchase): the "
            "person's renewal time for it.",
        ),
    ),
    key=(CUSTOMER_KEY, "category"),
)

KPI_RECRUITMENT = TableSpec(
    "kpi_recruitment",
    "Recruitment chronology: first channel, then the next channel a customer adopted.",
    (
        C("first_channel", "string", "Channel of the first purchase.", required=True),
        C(
            "next_channel",
            "string",
            "First other channel used later (`none`: still mono-channel).",
            required=True,
        ),
        C("customers", "int64", "Customers on this path.", required=True),
        C("share", "float64", "Share of the first channel's customers.", required=True),
        C("median_days", "float64", "Median days from the first purchase to the next channel."),
    ),
    key=("first_channel", "next_channel"),
)

KPI_COHORTS = TableSpec(
    "kpi_cohorts",
    "Cohort triangles by acquisition month and first channel: retention and cumulative "
    "revenue per customer, month by month.",
    (
        C("cohort_month", "date", "Month of the first purchase.", required=True),
        C(
            "first_channel",
            "string",
            "Channel of the first purchase (`all` for every one).",
            required=True,
        ),
        C(
            "months_since",
            "int64",
            "Months since the acquisition month (0 = that month).",
            required=True,
        ),
        C("cohort_customers", "int64", "Customers of the cohort.", required=True),
        C(
            "active_customers",
            "int64",
            "Of them, customers who bought in that month.",
            required=True,
        ),
        C("retention", "float64", "active_customers / cohort_customers.", required=True),
        C("revenue", "float64", "The cohort's revenue in that month.", required=True),
        C(
            "cumulative_revenue_per_customer",
            "float64",
            "Revenue up to that month per cohort customer.",
            required=True,
        ),
    ),
    key=("cohort_month", "first_channel", "months_since"),
)

SEGMENT_LABELS = TableSpec(
    "segment_labels",
    "The segments' names in English and French, with the rule that defines each.",
    (
        C("dimension", "string", "`rfm_segment` or `lifecycle_segment`.", required=True),
        C("segment", "string", "The segment code, as in customer_profile.", required=True),
        C("label_en", "string", "Name in English.", required=True),
        C("label_fr", "string", "Name in French.", required=True),
        C("rule", "string", "How a customer gets it.", required=True),
        C("priority", "int64", "Order in which the rules are tried.", required=True),
    ),
    key=("dimension", "segment"),
)

PERSONAS = TableSpec(
    "personas",
    "The persona cards: data-driven clusters of homogeneous behaviour.",
    (
        C("persona", "string", "Persona id, by decreasing size (`persona_01`...).", required=True),
        C("name_en", "string", "Suggested name in English, built from its traits.", required=True),
        C("name_fr", "string", "Suggested name in French.", required=True),
        C("customers", "int64", "Customers in the persona.", required=True),
        C("customer_share", "float64", "Share of customers.", required=True),
        C("revenue_share", "float64", "Share of revenue.", required=True),
        C("preferred_channel", "string", "Most common preferred channel.", required=True),
        C("favourite_families", "string", "Most common favourite families, comma-separated."),
        C("age_band", "string", "Most common age band, when known."),
        C("region", "string", "Most common region, when known."),
        C(
            "traits_en",
            "string",
            "What sets it apart from the population, in English.",
            required=True,
        ),
        C("traits_fr", "string", "The same, in French.", required=True),
        C("clusters", "int64", "Number of personas chosen.", required=True),
        C("criterion", "string", "Criterion that chose that number.", required=True),
        C("criterion_value", "float64", "Its value at the chosen number.", required=True),
    ),
    key=("persona",),
)

PERSONA_TRAITS = TableSpec(
    "persona_traits",
    "Typical values of each persona against the population, feature by feature.",
    (
        C("persona", "string", "Persona id.", required=True),
        C("feature", "string", "Behaviour feature (`orders`, `web_share`...).", required=True),
        C("persona_value", "float64", "Median (shares: mean) in the persona.", required=True),
        C("population_value", "float64", "The same over every customer.", required=True),
        C(
            "z_score",
            "float64",
            "Persona mean minus population mean, in standard deviations.",
            required=True,
        ),
    ),
    key=("persona", "feature"),
)

PERSONA_SELECTION = TableSpec(
    "persona_selection",
    "How the number of personas was chosen: the criterion at each number tried.",
    (
        C("clusters", "int64", "Number of personas tried.", required=True),
        C("criterion", "string", "Criterion (`silhouette`).", required=True),
        C("value", "float64", "Its value (higher is better).", required=True),
        C("chosen", "boolean", "The number kept.", required=True),
    ),
    key=("clusters",),
)

PERSONA_CROSSING = TableSpec(
    "persona_crossing",
    "Marketing personas (personas.marketing) crossed with the data segments.",
    (
        C(
            "marketing_persona",
            "string",
            "Marketing persona (`none` when no rule matches).",
            required=True,
        ),
        C("dimension", "string", "`persona`, `lifecycle_segment` or `rfm_segment`.", required=True),
        C("segment", "string", "The data segment.", required=True),
        C("customers", "int64", "Customers in both.", required=True),
        C("share", "float64", "Share of the marketing persona's customers.", required=True),
    ),
    key=("marketing_persona", "dimension", "segment"),
)

SEGMENT_PREVIOUS = TableSpec(
    "segment_previous",
    "Each person's lifecycle segment as the previous segments run left it, kept before the "
    "profile or the segments are rewritten.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C("lifecycle_segment", "string", "Lifecycle segment then."),
        C("as_of", "date", "The date that profile described.", required=True),
    ),
    key=(CUSTOMER_KEY,),
)

SEGMENT_MOVES = TableSpec(
    "segment_moves",
    "How customers moved between lifecycle segments since the previous segments run "
    "(`none`: not in the profile then, or no longer).",
    (
        C("from_segment", "string", "Lifecycle segment at the previous run.", required=True),
        C("to_segment", "string", "Lifecycle segment now.", required=True),
        C("customers", "int64", "Customers who moved so (or stayed).", required=True),
        C("previous_as_of", "date", "The date of the previous profile.", required=True),
        C("as_of", "date", "The date of the profile now.", required=True),
    ),
    key=("from_segment", "to_segment"),
)

KNOWLEDGE_TABLES: tuple[TableSpec, ...] = (
    CUSTOMER_PROFILE,
    CUSTOMER_CATEGORIES,
    KPI_SEGMENTS,
    KPI_PERIODS,
    KPI_SECOND_PURCHASE,
    KPI_RENEWAL,
    KPI_RECRUITMENT,
    KPI_COHORTS,
    SEGMENT_LABELS,
    PERSONAS,
    PERSONA_TRAITS,
    PERSONA_SELECTION,
    PERSONA_CROSSING,
    SEGMENT_PREVIOUS,
    SEGMENT_MOVES,
)

# -- prediction: CLV and churn
PREDICTIONS_AS_OF = "as_of"
RFM_FREQUENCY = "frequency"
RFM_RECENCY_DAYS = "recency_days"
RFM_AGE_DAYS = "age_days"
RFM_MONETARY_VALUE = "monetary_value"
EXPECTED_PURCHASES_90D = "expected_purchases_90d"
EXPECTED_PURCHASES_365D = "expected_purchases_365d"
P_ALIVE = "p_alive"
NEXT_PURCHASE_DATE = "next_purchase_date"
EXPECTED_SPEND = "expected_spend"
CLV_VALUE = "clv"
CHURN_RISK = "churn_risk"
CHURN_RISK_BANDS = ("high", "medium", "low")
EVAL_GROUPING = "grouping"
EVAL_SEGMENT = "segment"
EVAL_CUSTOMERS = "customers"
EVAL_PREDICTED = "predicted"
EVAL_ACTUAL = "actual"
EVAL_ERROR = "error"
EVAL_MEAN_ABSOLUTE_ERROR = "mean_absolute_error"
EVAL_CALIBRATION_END = "calibration_end"
EVAL_HOLDOUT_END = "holdout_end"
EVAL_GROUPINGS = ("all", "first_channel", "lifecycle_segment")

CUSTOMER_PREDICTIONS = TableSpec(
    "customer_predictions",
    "Per person with a purchase: the purchase-count and spend models' predictions "
    "(`parcours clv`); see docs/prediction.md.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C(
            PREDICTIONS_AS_OF,
            "date",
            "Prediction date: purchases up to this day are used.",
            required=True,
        ),
        C(
            RFM_FREQUENCY,
            "int64",
            "Repeat purchase days: distinct days with a purchase, minus 1.",
            required=True,
        ),
        C(
            RFM_RECENCY_DAYS,
            "int64",
            "Days from the first to the last purchase day.",
            required=True,
        ),
        C(RFM_AGE_DAYS, "int64", "Days from the first purchase day to `as_of` (T).", required=True),
        C(
            RFM_MONETARY_VALUE,
            "float64",
            "Mean value of the repeat purchase days (0 without repeat purchase).",
            required=True,
        ),
        C(EXPECTED_PURCHASES_90D, "float64", "Expected purchase days in the next 90 days."),
        C(EXPECTED_PURCHASES_365D, "float64", "Expected purchase days in the next 365 days."),
        C(P_ALIVE, "float64", "Probability that the person is still an active customer."),
        C(
            NEXT_PURCHASE_DATE,
            "date",
            "Date by which the person has even odds of having bought again; null when the "
            "odds never reach one half (P(alive) <= 0.5) or lie beyond 10 years.",
        ),
        C(EXPECTED_SPEND, "float64", "Expected value of a future purchase day (Gamma-Gamma)."),
        C(
            CLV_VALUE,
            "float64",
            "Discounted expected revenue over `clv.horizon_months` (12 by default).",
        ),
        C(
            CHURN_RISK,
            "string",
            "high, medium or low, from P(alive) and the `clv` thresholds.",
            vocabulary=CHURN_RISK_BANDS,
        ),
    ),
    key=(CUSTOMER_KEY,),
)

CLV_EVALUATION = TableSpec(
    "clv_evaluation",
    "Holdout check of the purchase-count model: fitted on the purchases up to "
    "`calibration_end`, its predictions against what the customers bought afterwards.",
    (
        C(
            EVAL_GROUPING,
            "string",
            "`all`, `first_channel` (channel of the first purchase) or `lifecycle_segment` "
            "(from `customer_profile`, when present).",
            required=True,
            vocabulary=EVAL_GROUPINGS,
        ),
        C(
            EVAL_SEGMENT,
            "string",
            "Value of the grouping (`all` for the whole base).",
            required=True,
        ),
        C(
            EVAL_CUSTOMERS,
            "int64",
            "Customers with a purchase by `calibration_end`.",
            required=True,
        ),
        C(
            EVAL_PREDICTED,
            "float64",
            "Predicted purchase days in the holdout period.",
            required=True,
        ),
        C(
            EVAL_ACTUAL,
            "int64",
            "Purchase days they actually made in the holdout period.",
            required=True,
        ),
        C(EVAL_ERROR, "float64", "Relative error, predicted / actual - 1; null when actual is 0."),
        C(
            EVAL_MEAN_ABSOLUTE_ERROR,
            "float64",
            "Mean over the customers of |predicted - actual| purchase days.",
            required=True,
        ),
        C(EVAL_CALIBRATION_END, "date", "Last day of the calibration period.", required=True),
        C(
            EVAL_HOLDOUT_END,
            "date",
            "Last day of the holdout period (the as-of date).",
            required=True,
        ),
    ),
    key=(EVAL_GROUPING, EVAL_SEGMENT),
)

PREDICTION_TABLES: tuple[TableSpec, ...] = (CUSTOMER_PREDICTIONS, CLV_EVALUATION)

# -- journeys: timelines, funnels, paths, friction
JOURNEY_ID = "journey_id"
SEQ = "seq"
TOUCHPOINT = "touchpoint"
OUTCOME = "outcome"
STAGE = "stage"
STAGE_NO = "stage_no"
OCCURRED_AT = "occurred_at"
JOURNEY_DOC = (
    "The journey: the customer_key, or `anon:` + anonymous_id for a visitor never identified."
)
ORDER_TOUCHPOINT = "order"  # the touchpoint of a row of customer_orders

JOURNEY_TIMELINE = TableSpec(
    "journey_timeline",
    "Every touchpoint of every journey, across channels, in time order: events, orders, consents.",
    (
        C(JOURNEY_ID, "string", JOURNEY_DOC, required=True),
        C(CUSTOMER_KEY, "string", "The person; null for a visitor never identified."),
        C("anonymous_id", "string", "Cookie or device id of the visitor, when the row has one."),
        C(
            SEQ,
            "int64",
            "Position in the journey from 0, by time (ties: stage order).",
            required=True,
        ),
        C(OCCURRED_AT, "timestamp", "When it happened.", required=True),
        C(
            TOUCHPOINT,
            "string",
            "Event type; `order` for an order; `consent_granted` / `consent_withdrawn`.",
            required=True,
        ),
        C(
            OUTCOME,
            "string",
            "How it went: `late` / `on_time` (delivery), `resolved` / `unresolved` (ticket), "
            "`good` / `neutral` / `bad` (survey score 4-5 / 3 / 1-2), the status of an order.",
        ),
        C(STAGE, "string", "Journey stage of the touchpoint (`journeys.stages`); null if none."),
        C(STAGE_NO, "int64", "Position of the stage in the stage model, from 1."),
        C("channel", "string", "Channel of the event or order."),
        C("device", "string", "Device from the event's properties (`device` or `os`), if any."),
        C("session_id", "string", "Browsing session."),
        C("order_id", "string", "Order concerned (orders, purchase, delivery and ticket events)."),
        C("amount", "float64", "Order total, or the revenue of a purchase event."),
        C("url", "string", "Page address."),
        C(SOURCE, "string", "Source system of the row.", required=True),
        C("ref", "string", "Id of the row in its source table (event_id or order_id)."),
    ),
    key=(JOURNEY_ID, SEQ),
)

JOURNEY_FUNNELS = TableSpec(
    "journey_funnels",
    "Each configured funnel, step by step, overall and split by channel, device, period, "
    "segment and persona.",
    (
        C("funnel", "string", "Funnel name (`journeys.funnels`).", required=True),
        C(
            "split",
            "string",
            "`all`, `channel`, `device`, `period`, `rfm_segment`, `lifecycle_segment` or "
            "`persona`.",
            required=True,
        ),
        C(
            "split_value",
            "string",
            "Value of the split (`all` for the whole funnel).",
            required=True,
        ),
        C("step_no", "int64", "Step position, from 1.", required=True),
        C("step", "string", "Touchpoint or stage of the step.", required=True),
        C(
            "entries",
            "int64",
            "Units counted: an attempt started in the date range (and not voided).",
            required=True,
        ),
        C(
            "reached",
            "int64",
            "Units whose counted attempt reached this step (any order: at least this many "
            "distinct steps).",
            required=True,
        ),
        C("conversion", "float64", "reached / entries."),
        C("step_conversion", "float64", "reached / reached at the previous step."),
        C(
            "dropped",
            "int64",
            "Units lost between the previous step and this one.",
            required=True,
        ),
        C(
            "mean_seconds",
            "float64",
            "Mean time from the previous step to this one, in the attempts counted.",
        ),
        C("median_seconds", "float64", "Median time from the previous step to this one."),
        C("p90_seconds", "float64", "90th percentile of that time."),
    ),
    key=("funnel", "split", "split_value", "step_no"),
)

JOURNEY_PATHS = TableSpec(
    "journey_paths",
    "The most frequent paths (first stages of each customer's journey) and an `other` bucket.",
    (
        C(
            "rank",
            "int64",
            "Rank by customers, from 1; the `other` bucket comes last.",
            required=True,
        ),
        C(
            "path",
            "string",
            "Stages in order, ` > `-separated; `…` when the journey goes on.",
            required=True,
        ),
        C("customers", "int64", "Customers whose journey starts with this path.", required=True),
        C(
            "share",
            "float64",
            "customers / all customers with a journey (shares add up to 1).",
            required=True,
        ),
        C("revenue", "float64", "Revenue of those customers (completed orders).", required=True),
    ),
    key=("rank",),
)

JOURNEY_TRANSITIONS = TableSpec(
    "journey_transitions",
    "The directly-follows graph of stages (data of Sankey and process maps), with the stage "
    "durations and their alert thresholds.",
    (
        C(
            "from_stage",
            "string",
            "Stage left (`(start)` for the beginning of a journey).",
            required=True,
        ),
        C("to_stage", "string", "Next stage (`(end)` for the end of a journey).", required=True),
        C(
            "transitions",
            "int64",
            "How many times a journey went directly from one to the other.",
            required=True,
        ),
        C("customers", "int64", "Distinct journeys with this transition.", required=True),
        C("median_days", "float64", "Nominal duration of the transition (median)."),
        C("p90_days", "float64", "90th percentile of the duration."),
        C("threshold_days", "float64", "Alert threshold (`journeys.duration_alerts`), if any."),
        C("beyond_threshold", "int64", "Transitions longer than the threshold."),
        C("customers_beyond", "int64", "Journeys with at least one transition beyond it."),
    ),
    key=("from_stage", "to_stage"),
)

JOURNEY_DURATION_ALERTS = TableSpec(
    "journey_duration_alerts",
    "Every stage transition that took longer than its alert threshold.",
    (
        C(JOURNEY_ID, "string", JOURNEY_DOC, required=True),
        C(CUSTOMER_KEY, "string", "The person; null for an anonymous visitor."),
        C("from_stage", "string", "Stage left.", required=True),
        C("to_stage", "string", "Stage reached.", required=True),
        C("started_at", "timestamp", "Last touchpoint of the stage left.", required=True),
        C("ended_at", "timestamp", "First touchpoint of the stage reached.", required=True),
        C("days", "float64", "Duration of the transition.", required=True),
        C("threshold_days", "float64", "The threshold it passed.", required=True),
    ),
)

JOURNEY_FRICTION = TableSpec(
    "journey_friction",
    "Friction points: funnel steps where entries are lost, per channel, ranked by the "
    "customers lost beyond the same step's drop-off on the other channels.",
    (
        C("rank", "int64", "Rank within the funnel by excess_lost, from 1.", required=True),
        C("funnel", "string", "Funnel name.", required=True),
        C("channel", "string", "Channel of the funnel entries.", required=True),
        C("from_step", "string", "Last step reached.", required=True),
        C("to_step", "string", "Step not reached.", required=True),
        C("reached", "int64", "Entries that reached from_step.", required=True),
        C("lost", "int64", "Of those, entries that never reached to_step.", required=True),
        C("drop_off", "float64", "lost / reached.", required=True),
        C("reference_drop_off", "float64", "Drop-off of the same step on the other channels."),
        C("excess_lost", "float64", "lost - reached x reference_drop_off.", required=True),
        C("revenue_lost", "float64", "lost x the mean value of a converted entry.", required=True),
        C("page", "string", "Most frequent page of from_step among the entries lost."),
    ),
    key=("funnel", "rank"),
)

JOURNEY_KPIS = TableSpec(
    "journey_kpis",
    "Journey KPIs per channel: cart abandonment, bounce rate, pages per session, time per page.",
    (
        C(
            "kpi",
            "string",
            "`cart_abandonment`, `bounce_rate`, `pages_per_session` or `seconds_per_page`.",
            required=True,
        ),
        C("channel", "string", "Channel (`all` for every channel).", required=True),
        C("value", "float64", "The KPI.", required=True),
        C("numerator", "float64", "What is counted (sessions, pages, seconds)."),
        C("denominator", "float64", "What it is divided by."),
    ),
    key=("kpi", "channel"),
)

JOURNEY_CROSS_CHANNEL = TableSpec(
    "journey_cross_channel",
    "Cross-channel patterns: research online then buy in store, click and collect, store then "
    "web, web then store; their share and value.",
    (
        C(
            "pattern",
            "string",
            "`research_online_buy_in_store`, `click_and_collect`, "
            "`store_then_web` or `web_then_store`.",
            required=True,
        ),
        C("unit", "string", "What is counted: `orders` or `customers`.", required=True),
        C("count", "int64", "Orders or customers following the pattern.", required=True),
        C("base", "int64", "Orders or customers it is a share of.", required=True),
        C("share", "float64", "count / base."),
        C("value", "float64", "Revenue of those orders, or of those customers.", required=True),
    ),
    key=("pattern",),
)

JOURNEY_MOMENTS = TableSpec(
    "journey_moments_of_truth",
    "Moments of truth: how each outcome of a touchpoint changes the repurchase rate within "
    "the horizon, against the touchpoint's reference outcome, with a confidence interval.",
    (
        C(
            TOUCHPOINT,
            "string",
            "Touchpoint (`order_delivered`, `ticket_closed`...).",
            required=True,
        ),
        C(OUTCOME, "string", "Outcome compared.", required=True),
        C("reference", "string", "Reference outcome (the most frequent one).", required=True),
        C(
            "events",
            "int64",
            "Touchpoints with this outcome whose horizon is in the data.",
            required=True,
        ),
        C(
            "repurchased",
            "int64",
            "Of those, followed by a purchase within the horizon.",
            required=True,
        ),
        C("rate", "float64", "repurchased / events.", required=True),
        C("reference_events", "int64", "Touchpoints with the reference outcome.", required=True),
        C(
            "reference_rate",
            "float64",
            "Repurchase rate after the reference outcome.",
            required=True,
        ),
        C("difference", "float64", "rate - reference_rate.", required=True),
        C(
            "ci_low",
            "float64",
            "Lower bound of the difference's confidence interval.",
            required=True,
        ),
        C(
            "ci_high",
            "float64",
            "Upper bound (Wald interval, customers as clusters).",
            required=True,
        ),
        C("significant", "boolean", "The interval excludes 0.", required=True),
        C("horizon_days", "int64", "Repurchase window after the touchpoint.", required=True),
    ),
    key=(TOUCHPOINT, OUTCOME),
)

JOURNEY_TABLES: tuple[TableSpec, ...] = (
    JOURNEY_TIMELINE,
    JOURNEY_FUNNELS,
    JOURNEY_PATHS,
    JOURNEY_TRANSITIONS,
    JOURNEY_DURATION_ALERTS,
    JOURNEY_FRICTION,
    JOURNEY_KPIS,
    JOURNEY_CROSS_CHANNEL,
    JOURNEY_MOMENTS,
)

# -- CRM plans: the journal of every decision, and the measured benefit of each plan
ACTION_STATUSES = ("decided", "sent", "failed", "holdout", "suppressed")
CRM_ACTIONS = TableSpec(
    "crm_actions",
    "The CRM journal: one row per plan, person and trigger occurrence, with what was "
    "decided and why (`parcours plan run`); see docs/activation.md.",
    (
        C(
            "action_id",
            "string",
            "Stable id of the decision; the message and idempotency id.",
            required=True,
        ),
        C("plan", "string", "Plan name (plans.scenarios).", required=True),
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C(
            "occurrence",
            "string",
            "What fired the plan (`first:2026-10-02`, `event:web:E123`...); one decision each.",
            required=True,
        ),
        C("detail", "string", "The category or family the message is about, when any."),
        C("channel", "string", "Contact channel chosen; null without a consented channel."),
        C("route", "string", "Where the offer points: `store:ID` or `web`."),
        C("decided_on", "date", "The run's as-of date.", required=True),
        C(
            "due_at",
            "timestamp",
            "When it may be sent (UTC), after quiet hours and days.",
            required=True,
        ),
        C(
            "status",
            "string",
            "decided, sent, failed, holdout or suppressed.",
            required=True,
            vocabulary=ACTION_STATUSES,
        ),
        C("reason", "string", "Why suppressed or failed (`no_consent`, `cap_7d`...)."),
        C("subject", "string", "The rendered subject, once sent."),
        C("sent_at", "timestamp", "When the transport accepted it."),
        C("attempts", "int64", "Delivery attempts.", required=True),
    ),
    key=("plan", CUSTOMER_KEY, "occurrence"),
)
CRM_EVALUATION = TableSpec(
    "crm_evaluation",
    "Per plan: treated and holdout conversion and revenue, and the uplift with its interval "
    "(`parcours plan evaluate`).",
    (
        C("plan", "string", "Plan name.", required=True),
        C(
            SOURCE,
            "string",
            "`journal` (crm_actions) or `events` (campaign_send events).",
            required=True,
        ),
        C("treated", "int64", "Persons contacted.", required=True),
        C("holdout", "int64", "Persons held out.", required=True),
        C("treated_conversion", "float64", "Share of the treated who bought within the window."),
        C("holdout_conversion", "float64", "Share of the held out who bought within the window."),
        C("uplift", "float64", "treated_conversion - holdout_conversion."),
        C("ci_low", "float64", "Lower bound of the uplift's confidence interval."),
        C("ci_high", "float64", "Upper bound (Wald, two independent proportions)."),
        C("treated_revenue", "float64", "Revenue per treated person within the window."),
        C("holdout_revenue", "float64", "Revenue per held-out person within the window."),
        C("incremental_revenue", "float64", "(treated_revenue - holdout_revenue) x treated."),
        C(
            "measure_days",
            "int64",
            "Window after the send in which a purchase counts.",
            required=True,
        ),
    ),
    key=("plan", SOURCE),
)
ACTIVATION_TABLES: tuple[TableSpec, ...] = (CRM_ACTIONS, CRM_EVALUATION)

# -- Monitoring: KPI series, their baselines, incidents and the customers to review
MONITOR_GRAINS = ("day", "week")
ANOMALY_KINDS = ("spike", "drop", "level_shift", "trend_change", "journey_delay")
SEVERITIES = ("low", "medium", "high")
KPI = "kpi"
DIMENSION = "dimension"
DIMENSION_VALUE = "dimension_value"
GRAIN = "grain"
PERIOD = "period"
INCIDENT_ID = "incident_id"
MONITOR_SERIES = TableSpec(
    "monitor_series",
    "KPI series per day and week, overall and per dimension value, with the seasonal "
    "baseline of each point (`parcours monitor`); see docs/monitoring.md.",
    (
        C(KPI, "string", "KPI (`revenue`, `orders`, `customers`...).", required=True),
        C(
            DIMENSION,
            "string",
            "Dimension (`all`, `channel`, `store`, `region`...).",
            required=True,
        ),
        C(DIMENSION_VALUE, "string", "Its value (`all` for the overall series).", required=True),
        C(GRAIN, "string", "`day` or `week`.", required=True, vocabulary=MONITOR_GRAINS),
        C(PERIOD, "date", "First day of the period.", required=True),
        C("value", "float64", "Observed value."),
        C("numerator", "float64", "What is summed or counted."),
        C("denominator", "float64", "What it is divided by (1 for a sum or a count)."),
        C("expected", "float64", "Baseline: the value expected for the period."),
        C("lower", "float64", "Lower bound of the prediction interval."),
        C("upper", "float64", "Upper bound of the prediction interval."),
        C("score", "float64", "Deviation in robust standard deviations of the residuals."),
        C(
            "method",
            "string",
            "Baseline used (`stl_yearly_weekly`, `stl_weekly`, `robust_yearly`, `median`).",
        ),
    ),
    key=(KPI, DIMENSION, DIMENSION_VALUE, GRAIN, PERIOD),
)
MONITOR_ANOMALIES = TableSpec(
    "monitor_anomalies",
    "Incidents: consecutive anomalous periods of one series, their size, severity and kind, "
    "with the dimension values that explain most of the gap.",
    (
        C(
            INCIDENT_ID,
            "string",
            "Stable id: the same incident keeps it across runs.",
            required=True,
        ),
        C(KPI, "string", "KPI.", required=True),
        C(DIMENSION, "string", "Dimension.", required=True),
        C(DIMENSION_VALUE, "string", "Dimension value.", required=True),
        C(GRAIN, "string", "`day` or `week`.", required=True),
        C("start", "date", "First anomalous period.", required=True),
        C("end", "date", "Last anomalous period.", required=True),
        C("periods", "int64", "Anomalous periods.", required=True),
        C("observed", "float64", "Observed value summed (or averaged, for a rate) over them."),
        C("expected", "float64", "Expected value, likewise."),
        C("lower", "float64", "Lower bound of the interval, likewise."),
        C("upper", "float64", "Upper bound, likewise."),
        C("difference", "float64", "observed - expected."),
        C("relative", "float64", "difference / expected."),
        C("score", "float64", "Largest deviation in robust standard deviations."),
        C("severity", "string", "low, medium or high.", vocabulary=SEVERITIES),
        C("kind", "string", "spike, drop, level_shift, trend_change or journey_delay."),
        C("explanation", "string", "The dimension values that account for the gap, ranked."),
        C("top_dimension", "string", "Dimension of the first explanation."),
        C("top_value", "string", "Its value."),
        C("top_share", "float64", "Its share of the gap."),
        C("detected_on", "date", "As-of date of the run that found it first.", required=True),
    ),
    key=(INCIDENT_ID,),
)
MONITOR_CUSTOMERS = TableSpec(
    "monitor_customers",
    "Persons whose behaviour departs from their own history and from the others, for fraud "
    "review: a score and its reasons.",
    (
        C(CUSTOMER_KEY, "string", KEY_DOC, required=True),
        C("score", "float64", "Sum of the points of every reason.", required=True),
        C("reasons", "string", "Every reason, separated by `; `.", required=True),
        C("orders", "int64", "Orders of the person."),
        C("max_orders_hour", "int64", "Most orders placed in one hour."),
        C("return_rate", "float64", "Returned orders / orders."),
        C("shared_contacts", "int64", "Other persons sharing the person's phone or address."),
        C("max_basket", "float64", "Largest order amount."),
    ),
    key=(CUSTOMER_KEY,),
)
MONITOR_ALERTS = TableSpec(
    "monitor_alerts",
    "The alert journal: one row per incident and recipient channel, so each is sent once.",
    (
        C(INCIDENT_ID, "string", "The incident.", required=True),
        C("channel", "string", "`email` or `webhook`.", required=True),
        C("status", "string", "sent or failed.", required=True),
        C("reason", "string", "Why it failed."),
        C("sent_at", "timestamp", "When the transport accepted it."),
    ),
    key=(INCIDENT_ID, "channel"),
)
MONITOR_TABLES: tuple[TableSpec, ...] = (
    MONITOR_SERIES,
    MONITOR_ANOMALIES,
    MONITOR_CUSTOMERS,
    MONITOR_ALERTS,
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in INPUT_TABLES
    + SYSTEM_TABLES
    + IDENTITY_TABLES
    + KNOWLEDGE_TABLES
    + PREDICTION_TABLES
    + JOURNEY_TABLES
    + ACTIVATION_TABLES
    + MONITOR_TABLES
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
