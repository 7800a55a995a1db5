"""The workspace configuration, ``parcours.yaml``, as pydantic models.

Defaults live only here: ``parcours init`` renders the commented file from these models, and
``load_config`` reports every problem at once with its dotted key.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from parcours.errors import ConfigError
from parcours.schema import KINDS

CONFIG_FILE = "parcours.yaml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class SparkConfig(Section):
    """How to reach Spark when ``engine: spark``."""

    master: str = Field(
        "local[*]", description="Spark master URL (`local[*]`, `spark://host:7077`)."
    )
    conf: dict[str, str] = Field(
        default_factory=dict, description="Extra Spark settings, e.g. spark.executor.memory: 4g."
    )
    log_level: Literal["OFF", "ERROR", "WARN", "INFO", "DEBUG"] = Field(
        "WARN", description="Level of Spark's own messages, written to logs/spark.log."
    )
    log_console: bool = Field(
        False, description="Also show Spark's messages and progress bars on the console."
    )


class DefaultsConfig(Section):
    """Values assumed when the data does not say."""

    country: str = Field(
        "FR", description="ISO country whose dialling code phones without one belong to."
    )
    currency: str = Field("EUR", description="Currency of amounts given without one.")
    timezone: str = Field(
        "UTC",
        description="IANA time zone of times written without an offset; all times are "
        "stored in UTC.",
    )

    @field_validator("country", "currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name such as UTC or Europe/Paris"
            ) from None
        return value


class IngestConfig(Section):
    """Plausibility limits: a value outside them is refused like an invalid one."""

    earliest_date: date = Field(
        date(1990, 1, 1), description="Dates (orders, events, consents) before this are refused."
    )
    days_ahead: int = Field(
        366, ge=0, description="Dates more than this many days after today are refused."
    )
    max_amount: float = Field(
        1e9, gt=0, description="Amounts, prices and quantities above this are refused."
    )


# The strftime directives DuckDB and Spark (through engine.spark_pattern) both read.
DATE_DIRECTIVES = frozenset("dmyYHIMSfpbBjz%")


def _check_date_format(value: str | None) -> str | None:
    if value is None:
        return value
    directives = re.findall(r"%(.)", value)
    unknown = sorted({d for d in directives if d not in DATE_DIRECTIVES})
    if not directives or unknown:
        what = f"unknown directive %{unknown[0]}" if unknown else "no % directive"
        raise ValueError(
            f"{value!r} is not a strftime format ({what}); write it like %d/%m/%Y %H:%M"
        )
    return value


class TableMapping(Section):
    """How one input kind of a source maps to the canonical columns."""

    rename: dict[str, str] = Field(
        default_factory=dict, description="Source column -> canonical column."
    )
    constants: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical column -> value for every row (channel: store).",
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Canonical column -> {source value: canonical value} ('MAG' -> store).",
    )
    date_format: str | None = Field(
        None, description="strftime format of this kind's dates, when not ISO 8601."
    )

    _date_format = field_validator("date_format")(_check_date_format)


class SourceConfig(Section):
    """One source system: how its files are written and how they map to parcours columns."""

    format: Literal["auto", "csv", "parquet", "jsonl"] = Field(
        "auto", description="File format; auto uses the file extension."
    )
    delimiter: str | None = Field(None, description="CSV delimiter; detected when absent.")
    encoding: str | None = Field(
        None, description="CSV encoding (utf-8, latin-1, cp1252); detected when absent."
    )
    decimal: Literal[".", ","] | None = Field(
        None, description="Decimal mark of numbers; detected when absent."
    )
    date_format: str | None = Field(
        None, description="strftime format of dates (%d/%m/%Y), tried after ISO 8601."
    )
    tables: dict[str, TableMapping] = Field(
        default_factory=dict, description="Mapping per input kind (orders, customers...)."
    )

    _date_format = field_validator("date_format")(_check_date_format)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"must be one character (such as ; or a tab), got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"unknown encoding {value!r}; expected utf-8, cp1252, latin-1 or utf-16"
                ) from None
        return value

    @field_validator("tables")
    @classmethod
    def _known_kinds(cls, value: dict[str, TableMapping]) -> dict[str, TableMapping]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; expected one of {', '.join(KINDS)}")
        return value

    def mapping(self, kind: str) -> TableMapping:
        return self.tables.get(kind) or TableMapping()


SURVIVORSHIP_RULES = ("source_priority", "most_recent", "most_frequent", "most_complete")
SurvivorshipRule = Literal["source_priority", "most_recent", "most_frequent", "most_complete"]


class IdentityConfig(Section):
    """How source records become persons (``parcours resolve``)."""

    match_threshold: Annotated[float, Field(ge=0.5, le=1.0)] | Literal["auto"] = Field(
        "auto",
        description=(
            "Match probability above which two records are joined by fuzzy evidence; `auto` "
            "chooses it from the fitted model to reach `target_precision`."
        ),
    )
    target_precision: float = Field(
        0.99,
        ge=0.5,
        lt=1.0,
        description=(
            "With an `auto` threshold: the expected pairwise precision of fuzzy links, from the "
            "model's match probabilities; the lowest threshold that reaches it is used."
        ),
    )
    max_cluster_size: int = Field(
        25,
        ge=2,
        description="A person with more records is held apart for review, not merged.",
    )
    max_shared_identifier: int = Field(
        8,
        ge=2,
        description="An email, phone or card held by more records identifies nobody.",
    )
    source_priority: list[str] = Field(
        default_factory=lambda: ["store", "web", "app", "service", "emailing"],
        description="Most trusted source first, for the source_priority rule.",
    )
    survivorship: dict[str, SurvivorshipRule] = Field(
        default_factory=lambda: {
            "default": "most_recent",
            "first_name": "most_frequent",
            "last_name": "most_recent",
            "email": "most_frequent",
            "birth_date": "most_frequent",
            "gender": "most_frequent",
            "loyalty_id": "most_recent",
        },
        description=(
            "Golden-record rule per field (`default` for the others): source_priority, "
            "most_recent, most_frequent or most_complete; address fields follow `address`."
        ),
    )


FESTIVE_WINDOWS = {
    "christmas": ["12-01", "12-24"],
    "easter": ["easter-14", "easter-1"],
    "mothers_day": ["mothers_day-7", "mothers_day-1"],
}
_DAY_RE = r"^(\d\d-\d\d|(easter|mothers_day)([+-]\d+)?)$"


class ProfileConfig(Section):
    """The customer profile and its KPIs (``parcours profile``, ``parcours kpis``)."""

    active_days: int = Field(
        365, ge=1, description="A customer is active with a purchase in this many days up to as-of."
    )
    kpi_period: Literal["month", "quarter", "year"] = Field(
        "month", description="Period of the KPI time series: month, quarter or year."
    )
    festive_windows: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in FESTIVE_WINDOWS.items()},
        description=(
            "Festive windows, name -> [first day, last day], each MM-DD or easter / mothers_day "
            "(French Mother's Day) plus or minus days, e.g. easter-14."
        ),
    )

    @field_validator("festive_windows")
    @classmethod
    def _window_days(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        import re

        for name, days in value.items():
            if len(days) != 2 or not all(re.match(_DAY_RE, d) for d in days):
                raise ValueError(
                    f"window {name!r}: expected [first, last] as MM-DD or easter-N / "
                    f"mothers_day-N; got {days!r}"
                )
        return value


LIFECYCLE_SEGMENTS = (
    "tourist",
    "lost",
    "new",
    "seasonal",
    "inactive",
    "lapsing",
    "vip",
    "promo_driven",
    "active_regular",
)


class LifecycleConfig(Section):
    """Lifecycle segments: one per customer, the first rule of ``priority`` that matches."""

    priority: list[str] = Field(
        default_factory=lambda: list(LIFECYCLE_SEGMENTS),
        description=(
            "Rules tried in this order; prospect (no purchase) comes first, occasional "
            "(no rule matched) last."
        ),
    )
    new_days: int = Field(90, ge=1, description="new: first purchase within this many days.")
    lost_days: int = Field(730, ge=1, description="lost: no purchase for more than this many days.")
    lapsing_factor: float = Field(
        2.0,
        gt=1.0,
        description=(
            "lapsing: silent for more than this times the customer's usual interval, or the "
            "renewal time of their favourite category."
        ),
    )
    lapsing_min_days: int = Field(
        30, ge=0, description="lapsing: never before this many days of silence."
    )
    vip_share: float = Field(
        0.1, gt=0, lt=1, description="vip: this top share of active customers by period revenue."
    )
    regular_min_orders: int = Field(
        2, ge=1, description="active_regular: at least this many purchases in the active period."
    )
    promo_min_share: float = Field(
        0.6, gt=0, le=1, description="promo_driven: share of purchases with a discount."
    )
    promo_min_orders: int = Field(
        2, ge=1, description="promo_driven: at least this many purchases."
    )
    seasonal_min_share: float = Field(
        0.8, gt=0, le=1, description="seasonal: share of spend in the festive windows."
    )
    seasonal_min_orders: int = Field(
        1, ge=1, description="seasonal: at least this many purchases in festive windows."
    )

    @field_validator("priority")
    @classmethod
    def _known_rules(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LIFECYCLE_SEGMENTS]
        if unknown:
            raise ValueError(
                f"unknown segment {unknown[0]!r}; expected some of {', '.join(LIFECYCLE_SEGMENTS)}"
            )
        return value


class PersonasConfig(Section):
    """Data-driven personas (``parcours personas``) and the marketing team's own."""

    min_clusters: int = Field(4, ge=2, description="Fewest personas tried.")
    max_clusters: int = Field(16, ge=2, description="Most personas tried.")
    sample_size: int = Field(
        20000,
        ge=500,
        description="Customers sampled to choose the number of personas and fit them.",
    )
    seed: int = Field(0, description="Random seed: the same data gives the same personas.")
    marketing: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Personas written by the marketing team, name -> SQL condition on customer_profile "
            "columns (first match wins), crossed with the data segments."
        ),
    )


class ClvConfig(Section):
    """Customer lifetime value, P(alive) and churn risk (``parcours clv``)."""

    model: Literal["bgnbd", "mbgnbd"] = Field(
        "mbgnbd",
        description=(
            "Purchase-count model: mbgnbd (MBG/NBD: one-time buyers can be lost, so their "
            "P(alive) falls with time) or bgnbd (BG/NBD: one-time buyers are always alive)."
        ),
    )
    penalizer: float = Field(
        0.0, ge=0, description="L2 penalty of the purchase-count fit; 0.001-0.1 on thin data."
    )
    horizon_months: int = Field(12, ge=1, le=120, description="Months of revenue the CLV sums.")
    discount_rate_monthly: float = Field(
        0.01, ge=0, lt=1, description="Monthly discount rate of the CLV (0.01: ~12.7% a year)."
    )
    high_risk_below: float = Field(
        0.3, gt=0, lt=1, description="Churn risk is high when P(alive) is below this."
    )
    medium_risk_below: float = Field(
        0.7, gt=0, lt=1, description="Churn risk is medium below this (and low from it)."
    )
    holdout_days: int = Field(
        180,
        ge=0,
        description=(
            "Days held out to evaluate the model: fit up to as-of minus this, compare with "
            "the purchases made since; 0 skips the evaluation."
        ),
    )

    @model_validator(mode="after")
    def _bands_in_order(self) -> ClvConfig:
        if self.high_risk_below > self.medium_risk_below:
            raise ValueError(
                f"high_risk_below ({self.high_risk_below}) must be <= medium_risk_below "
                f"({self.medium_risk_below})"
            )
        return self


_DURATION_RE = r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> float:
    """Seconds of a duration written ``90s``, ``30m``, ``2h`` or ``7d``."""
    match = re.match(_DURATION_RE, text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (expected e.g. 30m, 2h, 7d)")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _stage(name, label, touchpoints, departments, channels=()):
    return {
        "name": name,
        "label": label,
        "touchpoints": list(touchpoints),
        "channels": list(channels),
        "departments": list(departments),
    }


# The 10-stage journey of DOMAIN.md; event types of a stage are its touchpoints.
DEFAULT_STAGES = [
    _stage(
        "need_awareness",
        "Need awareness",
        ["email_send", "email_open", "sms_send", "push_send", "ad_impression"],
        ["marketing"],
    ),
    _stage(
        "information_search",
        "Information search",
        ["page_view", "email_click", "search", "identify", "store_visit"],
        ["marketing", "e-commerce"],
    ),
    _stage(
        "evaluation_of_options",
        "Evaluation of options",
        ["product_view", "add_to_wishlist", "product_compare"],
        ["e-commerce", "merchandising", "stores"],
    ),
    _stage(
        "purchase_decision",
        "Purchase decision",
        ["add_to_cart", "checkout_start"],
        ["e-commerce", "stores"],
    ),
    _stage("purchase", "Purchase", ["purchase", "order"], ["sales", "stores", "e-commerce"]),
    _stage(
        "delivery",
        "Delivery",
        ["order_shipped", "order_delivered", "order_picked_up"],
        ["logistics"],
    ),
    _stage(
        "use",
        "Use",
        ["product_registered", "loyalty_card_scan", "subscription_renewed"],
        ["product", "loyalty"],
    ),
    _stage(
        "satisfaction_evaluation",
        "Satisfaction evaluation",
        ["survey_response", "review"],
        ["customer relationship", "quality"],
    ),
    _stage(
        "after_sales_service",
        "After-sales service",
        ["ticket_opened", "ticket_closed", "return_requested"],
        ["customer service"],
    ),
    _stage(
        "recommendation",
        "Recommendation",
        ["referral", "review_published", "share"],
        ["marketing", "customer relationship"],
    ),
]

# Windows are explicit so that each funnel keeps its meaning: a session's steps a day apart at
# most, an e-mail's visit within 2 days and its purchase within 14 days of the visit.
DEFAULT_FUNNELS = {
    "checkout": {
        "description": "Cart to purchase within one browsing session (cart abandonment).",
        "steps": ["add_to_cart", "checkout_start", "purchase"],
        "window": "2d",
        "within": "1d",
        "scope": "session",
    },
    "browse_to_buy": {
        "description": "Home page to purchase within one browsing session.",
        "steps": ["page_view", "product_view", "add_to_cart", "checkout_start", "purchase"],
        "window": "4d",
        "within": "1d",
        "scope": "session",
    },
    "email_to_purchase": {
        "description": "An opened e-mail, a visit, then a purchase in any channel.",
        "steps": [
            "email_open",
            {"step": "information_search", "within": "2d"},
            {"step": "purchase", "within": "14d"},
        ],
        "window": "16d",
        "scope": "customer",
    },
}

DEFAULT_DURATION_ALERTS = [
    {"from_stage": "purchase", "to_stage": "delivery", "max_days": 5},
    {"from_stage": "delivery", "to_stage": "satisfaction_evaluation", "max_days": 7},
    {"from_stage": "purchase_decision", "to_stage": "purchase", "max_days": 1},
]


class StageConfig(Section):
    """One stage of the journey: its touchpoints, channels and the departments in charge."""

    name: str = Field(description="Stage identifier, as in the tables.")
    label: str = Field("", description="Name shown to people.")
    touchpoints: list[str] = Field(
        default_factory=list,
        description="Event types (and `order`) that belong to the stage.",
    )
    channels: list[str] = Field(
        default_factory=list,
        description="Channels whose touchpoints belong to the stage; empty: every channel.",
    )
    departments: list[str] = Field(
        default_factory=list, description="Departments involved at this stage."
    )


class FunnelStepConfig(Section):
    """One step of a funnel."""

    step: str = Field(description="Touchpoint (event type, `order`) or stage name.")
    channels: list[str] = Field(
        default_factory=list, description="Only touchpoints of these channels; empty: any."
    )
    within: str | None = Field(
        None,
        description=(
            "Extra limit from the previous step (30m, 2h, 7d), on top of the funnel's window; "
            "the funnel's `within` when absent."
        ),
    )

    @field_validator("within")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            duration_seconds(value)
        return value


class FunnelExclusionConfig(Section):
    """A touchpoint that voids an attempt when it happens between two steps."""

    step: str = Field(description="Touchpoint or stage that voids the attempt.")
    between: tuple[int, int] = Field(
        description="Steps i and j (numbered from 1): voided when it happens after i, before j."
    )


class FunnelConfig(Section):
    """A named funnel: steps, a conversion window from the entry, ordering and counting."""

    description: str = Field("", description="What the funnel measures.")
    steps: list[FunnelStepConfig] = Field(
        min_length=2, description="Steps in order; a plain name is a step with no options."
    )
    window: str = Field(
        "14d",
        description=(
            "Every step within this duration of the entry step (bound included): 90s, 30m, 2h, 14d."
        ),
    )
    within: str | None = Field(
        None, description="Optional limit of each step from the previous one (ordered funnels)."
    )
    scope: Literal["session", "customer"] = Field(
        "customer",
        description="session: steps in the entry's browsing session; customer: any channel.",
    )
    ordering: Literal["loose", "strict", "any"] = Field(
        "loose",
        description=(
            "loose: other touchpoints may come between steps; strict: none may; any: steps "
            "in any order (at least k distinct steps within one window)."
        ),
    )
    counting: Literal["best_attempt", "first_entry"] = Field(
        "best_attempt",
        description=(
            "best_attempt: each step-1 touchpoint starts an attempt and a unit counts by its "
            "furthest one; first_entry: only the first step-1 touchpoint in the range."
        ),
    )
    exclude: list[FunnelExclusionConfig] = Field(
        default_factory=list,
        description="Touchpoints that void an attempt between two steps: {step, between: [i, j]}.",
    )

    @field_validator("steps", mode="before")
    @classmethod
    def _plain_steps(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"step": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("window", "within")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            duration_seconds(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FunnelConfig:
        n = len(self.steps)
        for k, rule in enumerate(self.exclude):
            i, j = rule.between
            if not 1 <= i < j <= n:
                raise ValueError(
                    f"exclude.{k}.between: [{i}, {j}] must be two steps 1 <= i < j <= {n}"
                )
        if self.ordering == "any":
            if self.within is not None or any(s.within for s in self.steps):
                raise ValueError("within: steps in any order have no previous step; use window")
            if self.exclude:
                raise ValueError("exclude: steps in any order have no 'between'")
        return self


class DurationAlertConfig(Section):
    """An alert threshold on the duration of a stage transition."""

    from_stage: str = Field(description="Stage left.")
    to_stage: str = Field(description="Stage reached next.")
    max_days: float = Field(gt=0, description="Transitions longer than this are flagged.")


class JourneysConfig(Section):
    """Customer journeys: stage model, funnels, paths, alerts (``parcours journeys``)."""

    stages: list[StageConfig] = Field(
        default_factory=lambda: [dict(s) for s in DEFAULT_STAGES],
        description="Stages in journey order, each with its touchpoints, channels, departments.",
    )
    funnels: dict[str, FunnelConfig] = Field(
        default_factory=lambda: dict(DEFAULT_FUNNELS),
        description="Named funnels: steps, window, scope, ordering, counting and exclusions.",
    )
    duration_alerts: list[DurationAlertConfig] = Field(
        default_factory=lambda: [dict(a) for a in DEFAULT_DURATION_ALERTS],
        description="Alert thresholds on stage-transition durations.",
    )
    path_length: int = Field(
        5, ge=1, le=20, description="Stages of a journey's start that make its path."
    )
    top_paths: int = Field(10, ge=1, description="Paths listed before the `other` bucket.")
    moment_horizon_days: int = Field(
        90, ge=1, description="Window after a touchpoint in which a repurchase counts."
    )
    research_days: float = Field(
        7, gt=0, description="Research online, buy in store: product views this long before."
    )
    confidence: float = Field(
        0.95, gt=0.5, lt=1, description="Confidence level of the moments-of-truth intervals."
    )

    @model_validator(mode="after")
    def _known_stages(self) -> JourneysConfig:
        names = [s.name for s in self.stages]
        for i, alert in enumerate(self.duration_alerts):
            for which in ("from_stage", "to_stage"):
                if getattr(alert, which) not in names:
                    raise ValueError(
                        f"duration_alerts.{i}.{which}: unknown stage "
                        f"{getattr(alert, which)!r}; stages: {', '.join(names)}"
                    )
        return self


# -- CRM plans (``parcours plan``): scenarios, contact policy, transports
PLAN_CHANNELS = ("email", "sms", "push", "post")
TRIGGER_KINDS = (
    "first_purchase",
    "no_second_purchase",
    "renewal_due",
    "lapsing",
    "event",
    "family_purchase",
    "calendar",
)


class TriggerConfig(Section):
    """What makes a plan fire for a person, and when (see docs/activation.md)."""

    kind: Literal[
        "first_purchase",
        "no_second_purchase",
        "renewal_due",
        "lapsing",
        "event",
        "family_purchase",
        "calendar",
    ] = Field(description="Trigger kind.")
    days: int | Literal["auto"] = Field(
        0,
        description="Days after the triggering fact; `auto` (no_second_purchase): the median "
        "delay to the second purchase of the person's first channel, from kpi_second_purchase.",
    )
    grace_days: int = Field(
        7, ge=0, description="A fact this many days late still fires (runs may skip days)."
    )
    event_types: list[str] = Field(
        default_factory=list, description="event: event types that fire (`order_delivered`...)."
    )
    factor: float = Field(
        2.0, gt=1, description="lapsing: silence beyond factor x the person's usual interval."
    )
    min_days: int = Field(60, ge=0, description="lapsing: never before this many days of silence.")
    max_days: int = Field(720, ge=1, description="lapsing: customers silent longer are lost.")
    p_alive_below: float | None = Field(
        None, gt=0, lt=1, description="lapsing: also fires when P(alive) is below this."
    )
    family: str | None = Field(
        None, description="family_purchase: product family bought; any family when absent."
    )
    then_family: str | None = Field(
        None,
        description="family_purchase: family offered; learned from the data (bought X then Y "
        "within 90 days, highest lift) when absent.",
    )
    windows: list[str] = Field(
        default_factory=list,
        description="calendar: names of profile.festive_windows; every window when empty.",
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> TriggerConfig:
        if self.days == "auto" and self.kind != "no_second_purchase":
            raise ValueError("days: auto is for the no_second_purchase trigger only")
        if self.kind == "event" and not self.event_types:
            raise ValueError("event_types: an event trigger needs at least one event type")
        return self


class PlanConfig(Section):
    """One automated CRM scenario."""

    trigger: TriggerConfig = Field(description="What fires the plan.")
    audience: dict[str, Any] = Field(
        default_factory=dict,
        description="Filter on customer_profile columns: a value, a list of values, or {min, max}.",
    )
    channel: Literal["email", "sms", "push", "post", "best"] = Field(
        "best", description="Contact channel; best: the first consented of plans.best_order."
    )
    subject: dict[str, str] = Field(
        default_factory=dict, description="Subject template (Jinja2) per language."
    )
    body: dict[str, str] = Field(
        default_factory=dict, description="Body template (Jinja2) per language."
    )
    offer: dict[str, str] = Field(
        default_factory=dict, description="The offer per language, in templates as {{ offer }}."
    )
    priority: int = Field(5, ge=1, description="1 wins over 2 when plans want the same person.")
    cooldown_days: int = Field(30, ge=0, description="No repeat of the plan to a person within.")
    holdout_share: float = Field(
        0.1, ge=0, lt=1, description="Control group share, drawn by a stable hash per person."
    )
    measure_days: int = Field(30, ge=1, description="Purchase window that counts as conversion.")
    enabled: bool = Field(True, description="Disabled plans are listed but never run.")

    @field_validator("subject", "body")
    @classmethod
    def _templates(cls, value: dict[str, str]) -> dict[str, str]:
        import jinja2

        for lang, text in value.items():
            try:
                jinja2.Environment().parse(text)
            except jinja2.TemplateSyntaxError as e:
                raise ValueError(f"{lang}: template line {e.lineno}: {e.message}") from None
        return value


class CapConfig(Section):
    """At most ``max`` contacts in any ``days`` consecutive days."""

    days: int = Field(ge=1, description="Rolling window in days.")
    max: int = Field(ge=0, description="Contacts allowed in the window.")


class TransportConfig(Section):
    """How one contact channel is delivered; secrets come from environment variables."""

    kind: Literal["smtp", "webhook", "file"] = Field(
        "file", description="smtp (e-mail), webhook (SMS/push provider) or file (CSV export)."
    )
    host: str | None = Field(None, description="smtp: server host.")
    port: int = Field(25, ge=1, le=65535, description="smtp: server port.")
    starttls: bool = Field(False, description="smtp: upgrade the connection with STARTTLS.")
    username: str | None = Field(None, description="smtp: login.")
    password_env: str | None = Field(
        None, description="smtp: environment variable holding the password."
    )
    from_address: str = Field("crm@example.com", description="smtp: sender address.")
    url: str | None = Field(None, description="webhook: address messages are POSTed to.")
    key_env: str | None = Field(
        None, description="webhook: environment variable holding the HMAC-SHA256 signing key."
    )
    timeout_seconds: float = Field(10, gt=0, description="webhook: timeout of one attempt.")
    retries: int = Field(4, ge=0, description="webhook: retries on 5xx and timeouts.")
    backoff_seconds: float = Field(
        1.0, ge=0, description="webhook: first wait between attempts, doubled each retry."
    )
    directory: str = Field("exports", description="file: folder of the CSV, in the workspace.")

    @model_validator(mode="after")
    def _complete(self) -> TransportConfig:
        if self.kind == "smtp" and not self.host:
            raise ValueError("host: an smtp transport needs a host")
        if self.kind == "webhook" and not self.url:
            raise ValueError("url: a webhook transport needs a url")
        return self


def _plan(trigger: dict, subject: tuple[str, str], body: tuple[str, str], **more) -> dict:
    return {
        "trigger": trigger,
        "subject": {"fr": subject[0], "en": subject[1]},
        "body": {"fr": body[0], "en": body[1]},
        **more,
    }


_HELLO = ("Bonjour {{ first_name or '' }},\n\n", "Hello {{ first_name or '' }},\n\n")
_WHERE = (
    "{% if store %}Retrouvez-nous au magasin {{ store }}.{% else %}Sur notre boutique en "
    "ligne.{% endif %}",
    "{% if store %}See you at our {{ store }} store.{% else %}On our web shop.{% endif %}",
)
DEFAULT_PLANS = {
    "welcome": _plan(
        {"kind": "first_purchase", "days": 1},
        ("Bienvenue chez nous", "Welcome"),
        (
            _HELLO[0] + "Merci pour votre premier achat. {{ offer }}",
            _HELLO[1] + "Thank you for your first purchase. {{ offer }}",
        ),
        offer={"fr": "-10 % sur votre prochain achat", "en": "10% off your next purchase"},
        priority=2,
        cooldown_days=365,
    ),
    "second_purchase": _plan(
        {"kind": "no_second_purchase", "days": "auto"},
        ("Un cadeau pour votre prochain achat", "A gift for your next purchase"),
        (_HELLO[0] + "{{ offer }} " + _WHERE[0], _HELLO[1] + "{{ offer }} " + _WHERE[1]),
        offer={"fr": "-15 % sur votre deuxième achat", "en": "15% off your second purchase"},
        priority=3,
        cooldown_days=365,
    ),
    "replenishment": _plan(
        {"kind": "renewal_due"},
        ("Il est temps de refaire le plein", "Time to stock up"),
        (
            _HELLO[0] + "Votre {{ category }} arrive à sa fin ? " + _WHERE[0],
            _HELLO[1] + "Running out of {{ category }}? " + _WHERE[1],
        ),
        priority=4,
        cooldown_days=30,
    ),
    "winback": _plan(
        {"kind": "lapsing", "factor": 2.0, "min_days": 60},
        ("Vous nous manquez", "We miss you"),
        (_HELLO[0] + "{{ offer }} " + _WHERE[0], _HELLO[1] + "{{ offer }} " + _WHERE[1]),
        offer={"fr": "-20 % pour votre retour", "en": "20% off to welcome you back"},
        priority=1,
        cooldown_days=90,
    ),
    "satisfaction": _plan(
        {"kind": "event", "event_types": ["order_delivered", "ticket_closed"], "days": 2},
        ("Votre avis compte", "Tell us how it went"),
        (_HELLO[0] + "Comment s'est passée votre commande ?", _HELLO[1] + "How did your order go?"),
        priority=6,
        cooldown_days=60,
    ),
    "cross_sell": _plan(
        {"kind": "family_purchase", "days": 7},
        ("Pour compléter votre achat", "To go with your purchase"),
        (
            _HELLO[0] + "Découvrez notre rayon {{ offer_family }}. " + _WHERE[0],
            _HELLO[1] + "Discover our {{ offer_family }} range. " + _WHERE[1],
        ),
        priority=5,
        cooldown_days=60,
    ),
    "festive": _plan(
        {"kind": "calendar"},
        ("Les fêtes approchent", "The festive season is here"),
        (
            _HELLO[0] + "Notre sélection de fête vous attend. " + _WHERE[0],
            _HELLO[1] + "Our festive selection is waiting for you. " + _WHERE[1],
        ),
        audience={"lifecycle_segment": ["seasonal"]},
        priority=1,
        cooldown_days=30,
    ),
}


class PlansConfig(Section):
    """CRM plans and the contact policy that every plan obeys (``parcours plan``)."""

    scenarios: dict[str, PlanConfig] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_PLANS.items()},
        description="Plans by name: trigger, audience, channel, message, priority, cooldown.",
    )
    consent_required: list[Literal["email", "sms", "push", "post", "phone"]] = Field(
        default_factory=lambda: ["email", "sms", "push"],
        description="Channels on which a person without a consent record is not contacted.",
    )
    best_order: list[Literal["email", "sms", "push", "post"]] = Field(
        default_factory=lambda: ["email", "sms", "push"],
        description="Order in which channel `best` picks the first consented channel.",
    )
    caps: list[CapConfig] = Field(
        default_factory=lambda: [{"days": 7, "max": 2}, {"days": 30, "max": 6}],
        description="Contacts per person across all plans over rolling windows.",
    )
    channel_caps: dict[str, list[CapConfig]] = Field(
        default_factory=lambda: {"sms": [{"days": 30, "max": 2}]},
        description="Contacts per person on one channel over rolling windows.",
    )
    send_hour: int = Field(10, ge=0, le=23, description="Local hour a day's messages are due.")
    quiet_hours: tuple[int, int] = Field(
        (21, 8), description="[from, to) local hours when nothing is sent; sending waits."
    )
    quiet_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["sun"], description="Local week days when nothing is sent."
    )
    festive_segments: list[str] = Field(
        default_factory=lambda: ["seasonal"],
        description="Lifecycle segments left alone outside the festive windows.",
    )
    store_families: list[str] = Field(
        default_factory=list,
        description="Product families whose offers point to the person's main store; "
        "others point to the web shop.",
    )
    languages: dict[str, str] = Field(
        default_factory=lambda: {"FR": "fr", "BE": "fr", "CH": "fr", "LU": "fr", "MC": "fr"},
        description="Message language by the person's country; others get `en`.",
    )
    transports: dict[Literal["email", "sms", "push", "post"], TransportConfig] = Field(
        default_factory=lambda: {c: {"kind": "file"} for c in PLAN_CHANNELS},
        description="Transport per contact channel: smtp, webhook or file.",
    )

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not all(0 <= h <= 24 for h in value):
            raise ValueError(f"hours are 0 to 24; got {list(value)}")
        return value


class ServiceConfig(Section):
    """``parcours serve``: event collection and the profile API."""

    max_log_mb: float = Field(
        256, gt=0, description="Collection log size (MB) beyond which events get 429."
    )
    min_free_disk_mb: float = Field(
        64, ge=0, description="Free disk space (MB) below which events get 429."
    )
    load_interval_seconds: float = Field(
        2.0, gt=0, description="How often the loader moves the collection log into the tables."
    )
    retry_after_seconds: int = Field(5, ge=1, description="Retry-After of a 429 or 503 answer.")
    cli_wait_seconds: float = Field(
        120, ge=0, description="How long a command waits for the server's loader to finish."
    )


class MonitorConfig(Section):
    """KPI series, their seasonal baselines, anomalies and alerts (``parcours monitor``)."""

    kpis: list[
        Literal["revenue", "orders", "customers", "new_customers", "average_basket", "returns_rate"]
    ] = Field(
        default_factory=lambda: [
            "revenue",
            "orders",
            "customers",
            "new_customers",
            "average_basket",
            "returns_rate",
        ],
        description="KPIs followed day by day and week by week.",
    )
    dimensions: list[Literal["channel", "store", "region", "family", "source"]] = Field(
        default_factory=lambda: ["channel", "store", "region", "family", "source"],
        description="Dimensions each KPI is also followed by (besides the overall series).",
    )
    min_daily_orders: float = Field(
        5,
        ge=0,
        description="A dimension value with fewer orders a day on average is not followed day "
        "by day; with fewer a week, not week by week.",
    )
    country: str = Field(
        "FR",
        description="Country whose public holidays enter the baselines; FR also adds Mother's "
        "Day and the legal sales periods.",
    )
    threshold: float = Field(
        4.5, gt=0, description="A point is anomalous beyond this many robust standard deviations."
    )
    min_relative_change: float = Field(
        0.1, ge=0, description="...and at least this far from expected (0.1 = 10%)."
    )
    alert_days: int = Field(
        7, ge=0, description="Incidents ending within this many days of the as-of date alert."
    )
    alert_severities: list[Literal["low", "medium", "high"]] = Field(
        default_factory=lambda: ["medium", "high"], description="Severities that alert."
    )
    alert_kpis: list[str] = Field(
        default_factory=list, description="KPIs that alert (empty: every KPI)."
    )
    alert_dimensions: list[str] = Field(
        default_factory=lambda: ["all"],
        description="Dimensions whose incidents alert (`all`: the overall series).",
    )
    recipients: list[str] = Field(
        default_factory=list, description="E-mail addresses alerts are sent to."
    )
    transports: dict[Literal["email", "webhook"], TransportConfig] = Field(
        default_factory=dict,
        description="How alerts are sent: email (kind smtp) and webhook (kind webhook).",
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        value = value.upper()
        if value not in holidays.list_supported_countries():
            raise ValueError(f"no public holiday calendar for {value!r}; use an ISO code like FR")
        return value


class Config(Section):
    """The whole ``parcours.yaml``."""

    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="duckdb (embedded file, the default) or spark."
    )
    database: str = Field("parcours.duckdb", description="DuckDB file, relative to the workspace.")
    spark: SparkConfig = Field(default_factory=SparkConfig, description="Spark connection.")
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig, description="Assumed values.")
    sources: dict[str, SourceConfig] = Field(
        default_factory=dict, description="Source systems by name, with their mappings."
    )
    ingest: IngestConfig = Field(
        default_factory=IngestConfig, description="Plausibility limits checked at ingestion."
    )
    identity: IdentityConfig = Field(
        default_factory=IdentityConfig, description="Identity resolution and golden records."
    )
    profile: ProfileConfig = Field(
        default_factory=ProfileConfig, description="Customer profile and KPIs."
    )
    lifecycle: LifecycleConfig = Field(
        default_factory=LifecycleConfig, description="Lifecycle segment rules."
    )
    personas: PersonasConfig = Field(
        default_factory=PersonasConfig, description="Data-driven and marketing personas."
    )
    clv: ClvConfig = Field(
        default_factory=ClvConfig, description="Lifetime value, P(alive) and churn risk."
    )
    journeys: JourneysConfig = Field(
        default_factory=JourneysConfig, description="Customer journeys: stages, funnels, paths."
    )
    plans: PlansConfig = Field(
        default_factory=PlansConfig, description="CRM plans, contact policy and transports."
    )
    service: ServiceConfig = Field(
        default_factory=ServiceConfig, description="The HTTP service: collection and profiles."
    )
    monitor: MonitorConfig = Field(
        default_factory=MonitorConfig, description="KPI monitoring, anomalies and alerts."
    )


def _problems(error: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()]


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping.

    The last-one-wins rule would let a second, misspelt or forgotten copy of a key silently
    replace the first.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: let the base class report it
                continue
            if first != key_node.start_mark.line + 1:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is repeated (first on line {first})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), ["is a folder, not a YAML file"]) from None
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise ConfigError(
            str(path), [f"line {line}: binary content, not a YAML text file"]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(
            str(path),
            [f"line {line}: byte {data[e.start]:#04x} is not UTF-8"],
            hint="save the file as UTF-8 (Latin-1 and Windows-1252 are not read)",
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(
            str(path), [f"{where}not valid YAML ({getattr(e, 'problem', e)})"]
        ) from None


def load_config(path: str | Path) -> Config:
    """Read and validate ``parcours.yaml``; every problem is reported in one ConfigError."""
    path = Path(path)
    try:
        return Config.model_validate(_read_yaml(path))
    except ValidationError as e:
        raise ConfigError(path.name, _problems(e), hint="see docs/configuration.md") from None


def load_mapping(path: str | Path) -> SourceConfig:
    """Read a mapping file: one source's settings, as under ``sources.NAME`` in parcours.yaml."""
    path = Path(path)
    try:
        return SourceConfig.model_validate(_read_yaml(path))
    except ValidationError as e:
        raise ConfigError(path.name, _problems(e), hint="see docs/configuration.md") from None


def render_config(model: type[BaseModel] = Config, indent: int = 0) -> str:
    """Render the defaults of ``model`` as commented YAML (what ``parcours init`` writes)."""
    pad = " " * indent
    lines: list[str] = []
    for name, info in model.model_fields.items():
        if info.description:
            lines.append(f"{pad}# {info.description}")
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines.append(f"{pad}{name}:")
            lines.append(render_config(annotation, indent + 2))
            continue
        value = info.get_default(call_default_factory=True)
        items = value.values() if isinstance(value, dict) else value
        if isinstance(value, list | dict) and any(isinstance(v, dict) for v in items):
            # Lists of records (journey stages, funnels) read better one record a block.
            block = yaml.safe_dump({name: value}, default_flow_style=None, sort_keys=False)
            lines += [pad + line for line in block.rstrip().splitlines()]
            continue
        dumped = yaml.safe_dump({name: value}, default_flow_style=True, sort_keys=False).strip()
        lines.append(pad + dumped.removeprefix("{").removesuffix("}"))
    return "\n".join(lines)
