"""Row rules from the schema, as one Ibis expression: typed values plus every reason a row fails.

A required field that is missing or invalid fails the row (it goes to quarantine); an invalid
optional field becomes null and is counted as a data-quality finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from parcours.config import DefaultsConfig
from parcours.engine import IBIS_TYPES, Engine
from parcours.ingest import normalize
from parcours.ingest.mapping import ColumnPlan
from parcours.ingest.readers import JSON_ERROR, LINE
from parcours.schema import ATTRIBUTES, ColumnSpec, TableSpec

REASONS = "__reasons"
RAW = "__raw"
MAX_FIELD_CHARS = 10_000
_NO_TEXT = ibis.null("string")


@dataclass(frozen=True)
class Finding:
    """An optional field whose value was dropped: the rows where it happened, and why."""

    field: str
    invalid: ibis.BooleanValue
    raw: ibis.StringValue
    message: str


@dataclass(frozen=True)
class Rules:
    """The validated table expression and the findings to count on it."""

    table: ibis.Table
    findings: list[Finding]


def _quoted(raw: ibis.StringValue) -> ibis.StringValue:
    short = ibis.ifelse(raw.length() > 40, raw.substr(0, 40) + "...", raw)
    return "'" + short + "'"


class _Column:
    """The parsed value of one canonical column and what can be wrong with it."""

    def __init__(self, spec: ColumnSpec, raw: ibis.StringValue) -> None:
        self.spec = spec
        self.raw = raw
        self.value: ibis.Value = raw
        self.problems: list[tuple[ibis.BooleanValue, ibis.StringValue, str]] = []

    def parse(self, value: ibis.Value, expected: str) -> None:
        """Set the parsed value; a raw value that did not parse is a problem."""
        self.value = value
        bad = self.raw.notnull() & value.isnull()
        self.problems.append((bad, _quoted(self.raw) + f" is not {expected}", expected))

    def check(self, bad: ibis.BooleanValue, message: ibis.StringValue, label: str) -> None:
        self.problems.append((bad.fill_null(False), message, label))
        self.value = ibis.ifelse(bad.fill_null(False), ibis.null(self.value.type()), self.value)


def _column(
    spec: ColumnSpec,
    raw: ibis.StringValue,
    *,
    decimal: str,
    date_formats: list[str],
    defaults: DefaultsConfig,
    engine: Engine,
) -> _Column:
    col = _Column(spec, raw)
    if spec.normalizer == "email":
        col.parse(normalize.email(raw), "an email address")
    elif spec.normalizer == "phone":
        col.parse(normalize.phone(raw, defaults.country), "a phone number")
    elif spec.normalizer == "lower":
        col.value = raw.lower()
    elif spec.normalizer in ("currency", "country"):
        size = 3 if spec.normalizer == "currency" else 2
        upper = raw.upper()
        col.parse(
            ibis.ifelse(upper.re_search(f"^[A-Z]{{{size}}}$"), upper, _NO_TEXT),
            f"an ISO {'4217 currency' if size == 3 else '3166 country'} code",
        )
    if spec.vocabulary:
        value = col.value
        col.value = ibis.ifelse(value.isin(spec.vocabulary), value, _NO_TEXT)
        col.problems.append(
            (
                value.notnull() & col.value.isnull(),
                _quoted(raw) + " is not one of " + ", ".join(spec.vocabulary),
                "a known value",
            )
        )
    if spec.dtype in ("float64", "int64"):
        number = normalize.decimal_number(raw, decimal)
        expected = f"a number (decimal mark '{decimal}')"
        if spec.dtype == "int64":
            number = ibis.ifelse(number == number.floor(), number, ibis.null("float64"))
            expected = "a whole number"
        col.parse(number.cast(IBIS_TYPES[spec.dtype]), expected)
    elif spec.dtype == "boolean":
        col.parse(normalize.boolean(raw), "true or false")
    elif spec.dtype in ("timestamp", "date"):
        parsed = ibis.coalesce(
            raw.try_cast("timestamp"), *(engine.parse_timestamp(raw, f) for f in date_formats)
        )
        expected = "a valid date (expected " + " or ".join([*date_formats, "ISO 8601"]) + ")"
        col.parse(parsed.date() if spec.dtype == "date" else parsed, expected)
    if spec.min_value is not None:
        col.check(
            col.value < spec.min_value,
            _quoted(raw) + f" is below {spec.min_value:g}",
            "below the minimum",
        )
    if spec.name == "birth_date":
        col.check(
            (col.value > ibis.today()) | (col.value < ibis.date(1900, 1, 1)),
            _quoted(raw) + " is not a plausible birth date",
            "implausible",
        )
    if spec.default is not None:
        col.value = ibis.coalesce(col.value, ibis.literal(spec.default))
    if spec.normalizer == "currency":
        col.value = ibis.coalesce(col.value, ibis.literal(defaults.currency))
    return col


def rules(
    staged: ibis.Table,
    spec: TableSpec,
    plan: ColumnPlan,
    *,
    header: list[str],
    decimal: str,
    date_formats: list[str],
    defaults: DefaultsConfig,
    engine: Engine,
) -> Rules:
    """Build the validated table of one staged file.

    Returns every canonical input column typed, plus ``__reasons`` (null for a valid row),
    ``__raw`` (the row as read, JSON) and ``__line``.
    """
    reasons: list[ibis.StringValue] = []
    findings: list[Finding] = []
    values: dict[str, ibis.Value] = {}
    for name in header:
        too_long = staged[name].length() > MAX_FIELD_CHARS
        reasons.append(
            ibis.ifelse(
                too_long,
                f"{name}: is "
                + staged[name].length().cast("string")
                + f" characters long (at most {MAX_FIELD_CHARS})",
                _NO_TEXT,
            )
        )
    for spec_col in spec.input_columns:
        if spec_col.name == ATTRIBUTES:
            continue
        if spec_col.name in plan.inputs:
            raw = normalize.blank_to_null(staged[plan.inputs[spec_col.name]])
        elif spec_col.name in plan.constants:
            raw = ibis.literal(plan.constants[spec_col.name], "string")
        else:
            raw = _NO_TEXT
        if spec_col.name in plan.values:
            raw = raw.substitute(plan.values[spec_col.name])
        col = _column(
            spec_col,
            raw,
            decimal=decimal,
            date_formats=date_formats,
            defaults=defaults,
            engine=engine,
        )
        values[spec_col.name] = col.value.cast(IBIS_TYPES[spec_col.dtype])
        for bad, message, label in col.problems:
            if spec_col.required:
                reasons.append(ibis.ifelse(bad, f"{spec_col.name}: " + message, _NO_TEXT))
            elif spec_col.name in plan.inputs:
                findings.append(Finding(spec_col.name, bad, raw, f"not {label}"))
        if spec_col.required:
            reasons.append(ibis.ifelse(raw.isnull(), f"{spec_col.name}: missing value", _NO_TEXT))
    for group in spec.one_of:
        reasons.append(
            ibis.ifelse(
                ibis.and_(*(values[c].isnull() for c in group)),
                f"{' and '.join(group)}: all missing, at least one is required",
                _NO_TEXT,
            )
        )
    if JSON_ERROR in staged.columns:
        reasons.insert(0, staged[JSON_ERROR])
    if spec.keeps_extra:
        values[ATTRIBUTES] = (
            engine.to_json({c: staged[c] for c in plan.extra}) if plan.extra else _NO_TEXT
        )
    raw_row = engine.to_json({c: staged[c] for c in header}) if header else _NO_TEXT
    if JSON_ERROR in staged.columns and header:
        raw_row = ibis.ifelse(staged[JSON_ERROR].notnull(), ibis.literal("{}"), raw_row)
    table = staged.select(
        **values,
        **{REASONS: ibis.literal("; ").join(reasons).nullif(""), RAW: raw_row, LINE: staged[LINE]},
    )
    return Rules(table, findings)
