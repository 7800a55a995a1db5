"""Row rules from the schema, as one Ibis expression: typed values plus every reason a row fails.

A required field that is missing or invalid fails the row (it goes to quarantine); an invalid
optional field becomes null and is counted as a data-quality finding, except where null
would mean something else: a field with a default (an unknown order ``status`` is not a
sale) fails the row too. Values outside the plausible ranges of ``ingest`` in parcours.yaml
count as invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pyarrow as pa

from parcours.config import DefaultsConfig, IngestConfig
from parcours.engine import IBIS_TYPES, Engine
from parcours.ingest import normalize
from parcours.ingest.mapping import ColumnPlan
from parcours.ingest.readers import JSON_ERROR, LINE
from parcours.schema import ATTRIBUTES, ColumnSpec, TableSpec

REASONS = "__reasons"
RAW = "__raw"
MAX_FIELD_CHARS = 10_000
_NO_TEXT = ibis.null("string")
_PHONE_RAW, _PHONE = "__phone_raw", "__phone"
# An ISO 8601 date-time with a UTC offset: the local part, then Z or the signed offset.
_OFFSET = (
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) ?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2})?)$"
)


@dataclass(frozen=True)
class Finding:
    """An optional field whose value was dropped: the rows where it happened, and why."""

    field: str
    invalid: ibis.BooleanValue
    raw: ibis.StringValue
    message: str


@dataclass(frozen=True)
class Rules:
    """The validated table expression and the findings to count on ``source``."""

    table: ibis.Table
    findings: list[Finding]
    source: ibis.Table  # the staged rows the findings are expressions over
    decimal: str  # the decimal mark the numbers were read with


@dataclass(frozen=True)
class _Conventions:
    decimal: str
    decimal_known: bool  # configured, or shown by some value of the file
    date_formats: list[str]
    defaults: DefaultsConfig
    limits: IngestConfig
    engine: Engine


def _quoted(raw: ibis.StringValue) -> ibis.StringValue:
    short = ibis.ifelse(raw.length() > 40, raw.substr(0, 40) + "...", raw)
    return "'" + short + "'"


class _Column:
    """The parsed value of one canonical column and what can be wrong with it.

    Each problem is (rows where it happens, message for quarantine, finding for data quality).
    """

    def __init__(self, spec: ColumnSpec, raw: ibis.StringValue) -> None:
        self.spec = spec
        self.raw = raw
        self.value: ibis.Value = raw
        self.problems: list[tuple[ibis.BooleanValue, ibis.StringValue, str]] = []

    def parse(self, value: ibis.Value, expected: str) -> None:
        """Set the parsed value; a raw value that did not parse is a problem."""
        self.value = value
        bad = self.raw.notnull() & value.isnull()
        self.problems.append((bad, _quoted(self.raw) + f" is not {expected}", f"not {expected}"))

    def check(self, bad: ibis.BooleanValue, message: ibis.StringValue, finding: str) -> None:
        """A parsed value that is wrong all the same: a problem, and the value becomes null."""
        self.problems.append((bad.fill_null(False), message, finding))
        self.value = ibis.ifelse(bad.fill_null(False), ibis.null(self.value.type()), self.value)


def _timestamp(raw: ibis.StringValue, conv: _Conventions) -> ibis.Value:
    """A time in UTC: an offset in the text is applied, a time without one is local time."""
    with_offset = raw.re_search(_OFFSET).fill_null(False)
    local = raw.re_extract(_OFFSET, 1).try_cast("timestamp")
    sign = ibis.ifelse(raw.re_extract(_OFFSET, 3) == "-", -1, 1)
    hours = raw.re_extract(_OFFSET, 4).nullif("").try_cast("int64").fill_null(0)
    minutes = raw.re_extract(_OFFSET, 5).nullif("").try_cast("int64").fill_null(0)
    shift = sign * (hours * 60 + minutes)
    from_offset = local - shift.as_interval("m")
    engine = conv.engine
    naive = ibis.coalesce(
        raw.try_cast("timestamp"), *(engine.parse_timestamp(raw, f) for f in conv.date_formats)
    )
    return ibis.ifelse(with_offset, from_offset, engine.to_utc(naive, conv.defaults.timezone))


def _column(spec: ColumnSpec, raw: ibis.StringValue, conv: _Conventions) -> _Column:
    col = _Column(spec, raw)
    limits = conv.limits
    if spec.normalizer == "email":
        col.parse(normalize.email(raw), "an email address")
    elif spec.normalizer == "phone":
        pass  # parsed by libphonenumber, once per distinct value: see _with_phones
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
                "not a known value",
            )
        )
    if spec.dtype in ("float64", "int64"):
        number = normalize.decimal_number(raw, conv.decimal)
        expected = f"a number (decimal mark '{conv.decimal}')"
        if spec.dtype == "int64":
            number = ibis.ifelse(number == number.floor(), number, ibis.null("float64"))
            expected = "a whole number"
        col.parse(number.cast(IBIS_TYPES[spec.dtype]), expected)
        if not conv.decimal_known:
            shape = normalize.number_shape(raw)
            col.check(
                shape["ambiguous"],
                _quoted(raw) + " is ambiguous: no value of the file shows its decimal mark",
                "ambiguous decimal mark",
            )
        if spec.dtype == "float64":
            col.check(
                col.value.abs() > limits.max_amount,
                _quoted(raw) + f" is above the plausible maximum {limits.max_amount:g}",
                "above the plausible maximum",
            )
    elif spec.dtype == "boolean":
        col.parse(normalize.boolean(raw), "true or false")
    elif spec.dtype == "timestamp":
        expected = "a valid date (expected " + " or ".join([*conv.date_formats, "ISO 8601"]) + ")"
        col.parse(_timestamp(raw, conv), expected)
        earliest = limits.earliest_date
        latest = date.today() + timedelta(days=limits.days_ahead)
        col.check(
            (col.value < ibis.timestamp(earliest.isoformat()))
            | (col.value >= ibis.timestamp((latest + timedelta(days=1)).isoformat())),
            _quoted(raw) + f" is outside the plausible dates ({earliest} to {latest})",
            "outside the plausible dates",
        )
    elif spec.dtype == "date":
        parsed = ibis.coalesce(
            raw.try_cast("timestamp"),
            *(conv.engine.parse_timestamp(raw, f) for f in conv.date_formats),
        )
        expected = "a valid date (expected " + " or ".join([*conv.date_formats, "ISO 8601"]) + ")"
        col.parse(parsed.date(), expected)
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
        col.value = ibis.coalesce(col.value, ibis.literal(conv.defaults.currency))
    return col


def _raw(staged: ibis.Table, spec_col: ColumnSpec, plan: ColumnPlan) -> ibis.StringValue:
    if spec_col.name in plan.inputs:
        raw = normalize.blank_to_null(staged[plan.inputs[spec_col.name]])
    elif spec_col.name in plan.constants:
        raw = ibis.literal(plan.constants[spec_col.name], "string")
    else:
        raw = _NO_TEXT
    if spec_col.name in plan.values:
        raw = raw.substitute(plan.values[spec_col.name])
    return raw


def _file_decimal(
    staged: ibis.Table, spec: TableSpec, plan: ColumnPlan, engine: Engine
) -> tuple[str, bool]:
    """The decimal mark the whole file shows, counted over every number column in the engine.

    The mark most values show wins; values of the other mark then fail to parse. With no
    value showing one, the mark is a dot and ambiguous values (``1,250``) are refused.
    """
    numbers = [
        _raw(staged, c, plan)
        for c in spec.input_columns
        if c.dtype in ("float64", "int64") and c.name in plan.inputs
    ]
    if not numbers:
        return ".", True
    counts = {}
    for i, raw in enumerate(numbers):
        shape = normalize.number_shape(raw)
        counts[f"dot{i}"] = shape["dot"].cast("int64").sum()
        counts[f"comma{i}"] = shape["comma"].cast("int64").sum()
    row = engine.to_pyarrow(staged.aggregate(**counts)).to_pylist()[0]
    dot = sum(v or 0 for k, v in row.items() if k.startswith("dot"))
    comma = sum(v or 0 for k, v in row.items() if k.startswith("comma"))
    return ("," if comma > dot else "."), bool(dot or comma)


def _with_phones(
    staged: ibis.Table, spec: TableSpec, plan: ColumnPlan, defaults: DefaultsConfig, engine: Engine
) -> tuple[ibis.Table, dict[str, str]]:
    """The staged rows joined with each phone column's E.164 form, parsed once per value."""
    parsed: dict[str, str] = {}
    for spec_col in spec.input_columns:
        if spec_col.normalizer != "phone" or spec_col.name not in plan.inputs:
            continue
        text = staged[plan.inputs[spec_col.name]]
        distinct = engine.to_pyarrow(
            staged.select(v=text).filter(ibis._.v.notnull()).distinct()
        ).column("v")
        values = plan.values.get(spec_col.name, {})
        raws = distinct.to_pylist()
        e164 = [
            normalize.phone_e164(values.get(v.strip(), v.strip()), defaults.country) for v in raws
        ]
        key, out = f"{_PHONE_RAW}_{spec_col.name}", f"{_PHONE}_{spec_col.name}"
        phones = engine.from_arrow(
            pa.table({key: pa.array(raws, pa.string()), out: pa.array(e164, pa.string())}),
            f"_phones_{spec_col.name}",
        )
        joined = staged.left_join(phones, staged[plan.inputs[spec_col.name]] == phones[key])
        staged = joined.drop(key)
        parsed[spec_col.name] = out
    return staged, parsed


def rules(
    staged: ibis.Table,
    spec: TableSpec,
    plan: ColumnPlan,
    *,
    header: list[str],
    decimal: str | None,
    date_formats: list[str],
    defaults: DefaultsConfig,
    engine: Engine,
    limits: IngestConfig | None = None,
) -> Rules:
    """Build the validated table of one staged file.

    ``decimal`` is the source's decimal mark; None reads it from the whole file. Returns
    every canonical input column typed, plus ``__reasons`` (null for a valid row), ``__raw``
    (the row as read, JSON) and ``__line``.
    """
    if decimal is None:
        decimal, known = _file_decimal(staged, spec, plan, engine)
    else:
        known = True
    conv = _Conventions(decimal, known, date_formats, defaults, limits or IngestConfig(), engine)
    staged, phones = _with_phones(staged, spec, plan, defaults, engine)
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
        raw = _raw(staged, spec_col, plan)
        col = _column(spec_col, raw, conv)
        if spec_col.name in phones:
            col.parse(staged[phones[spec_col.name]], "a valid phone number")
        values[spec_col.name] = col.value.cast(IBIS_TYPES[spec_col.dtype])
        # A field with a default cannot be dropped to null: it would take the default.
        refuses_row = spec_col.required or spec_col.default is not None
        for bad, message, finding in col.problems:
            if refuses_row:
                reasons.append(ibis.ifelse(bad, f"{spec_col.name}: " + message, _NO_TEXT))
            elif spec_col.name in plan.inputs:
                findings.append(Finding(spec_col.name, bad, raw, finding))
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
    every_reason = ibis.literal("; ").join(reasons).nullif("")
    if JSON_ERROR in staged.columns:
        # A line that is not a JSON object has no fields to check: its one reason is that.
        every_reason = ibis.coalesce(staged[JSON_ERROR], every_reason)
    if spec.keeps_extra:
        values[ATTRIBUTES] = (
            engine.to_json({c: staged[c] for c in plan.extra}) if plan.extra else _NO_TEXT
        )
    raw_row = engine.to_json({c: staged[c] for c in header}) if header else _NO_TEXT
    if JSON_ERROR in staged.columns and header:
        raw_row = ibis.ifelse(staged[JSON_ERROR].notnull(), ibis.literal("{}"), raw_row)
    table = staged.select(
        **values,
        **{REASONS: every_reason, RAW: raw_row, LINE: staged[LINE]},
    )
    return Rules(table, findings, staged, decimal)
