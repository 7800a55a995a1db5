"""Text formats of the demo's values: amounts, dates, timestamps, JSON objects and lines.

Everything is vectorised with pyarrow compute. Dates and times are looked up in small
tables of preformatted text (one entry per day, per second of a day), which is much faster
than formatting every value. Values come from controlled vocabularies (no quote, backslash
or control character), so JSON strings need no escaping.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EPOCH = date(1970, 1, 1)
ISO = "%Y-%m-%dT%H:%M:%SZ"


def join(*parts) -> pa.Array:
    """Concatenate string arrays and literals element-wise (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def integers(values: np.ndarray) -> pa.Array:
    """Integers as decimal text."""
    return pc.cast(pa.array(np.asarray(values, np.int64)), pa.string())


@lru_cache(maxsize=4)
def _two_digits() -> pa.Array:
    return pa.array([f"{i:02d}" for i in range(100)])


def money(cents: np.ndarray, decimal: str = ".") -> pa.Array:
    """Amounts in cents as ``12.30`` (or ``12,30``); negative amounts keep their sign.

    Parameters
    ----------
    cents : numpy.ndarray
        Integer amounts in cents.
    decimal : str
        Decimal mark.

    Returns
    -------
    pyarrow.Array
        The amounts as text, always with two decimals.
    """
    cents = np.asarray(cents, np.int64)
    absolute = np.abs(cents)
    text = join(integers(absolute // 100), decimal, _two_digits().take(pa.array(absolute % 100)))
    if (cents < 0).any():
        text = pc.if_else(pa.array(cents < 0), join("-", text), text)
    return text


_TOKEN = re.compile(r"%[YmdHMS]")


def _render(fmt: str, fields: dict[str, np.ndarray]) -> pa.Array:
    """Fill a strftime-like format (only %Y %m %d %H %M %S) from integer fields."""
    parts: list = []
    at = 0
    for m in _TOKEN.finditer(fmt):
        if m.start() > at:
            parts.append(fmt[at : m.start()])
        value = fields[m.group()[1]]
        parts.append(integers(value) if m.group() == "%Y" else _two_digits().take(pa.array(value)))
        at = m.end()
    if at < len(fmt):
        parts.append(fmt[at:])
    if not any(isinstance(p, pa.Array) for p in parts):
        return pa.array(["".join(parts)] * len(next(iter(fields.values()))))
    return join(*parts)


@lru_cache(maxsize=16)
def _day_table(first: int, count: int, fmt: str) -> pa.Array:
    days = (np.arange(count) + first).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    return _render(
        fmt,
        {
            "Y": days.astype("datetime64[Y]").astype(np.int64) + 1970,
            "m": months.astype(np.int64) % 12 + 1,
            "d": (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
        },
    )


@lru_cache(maxsize=8)
def _time_table(fmt: str, step: int) -> pa.Array:
    seconds = np.arange(0, 86400, step)
    return _render(fmt, {"H": seconds // 3600, "M": seconds // 60 % 60, "S": seconds % 60})


def _split(fmt: str) -> tuple[str, str, int]:
    cut = fmt.find("%H")
    if cut < 0:
        return fmt, "", 86400
    step = 1 if "%S" in fmt else 60
    # The separator before the hour belongs to the date part.
    return fmt[:cut], fmt[cut:], step


def epoch_seconds(t: np.ndarray, origin: date) -> np.ndarray:
    """Float days from ``origin`` as whole seconds since 1970 (NaN stays NaN as -1)."""
    t = np.asarray(t, np.float64)
    base = (origin - _EPOCH).days * 86400
    return np.where(np.isnan(t), -1, np.rint(np.nan_to_num(t) * 86400).astype(np.int64) + base)


def timestamps(t: np.ndarray, origin: date, fmt: str = ISO) -> pa.Array:
    """Times in days from ``origin`` (UTC) as text.

    Parameters
    ----------
    t : numpy.ndarray
        Float days from ``origin``; NaN gives null.
    origin : datetime.date
        Day 0.
    fmt : str
        strftime format: a date part, optionally followed by a time part from ``%H``.

    Returns
    -------
    pyarrow.Array
        The formatted times.
    """
    seconds = epoch_seconds(t, origin)
    missing = seconds < 0
    seconds = np.where(missing, 0, seconds)
    day = seconds // 86400
    date_fmt, time_fmt, step = _split(fmt)
    lo = int(day.min()) if len(day) else 0
    hi = int(day.max()) if len(day) else 0
    text = _day_table(lo, hi - lo + 1, date_fmt).take(pa.array(day - lo))
    if time_fmt:
        clock = _time_table(time_fmt, step).take(pa.array((seconds % 86400) // step))
        text = join(text, clock)
    if missing.any():
        text = pc.if_else(pa.array(missing), pa.nulls(len(text), pa.string()), text)
    return text


def dates(days: np.ndarray, fmt: str = "%Y-%m-%d") -> pa.Array:
    """Days since 1970-01-01 as dates; negative values (unknown) give null."""
    days = np.asarray(days, np.int64)
    t = np.where(days < 0, np.nan, days.astype(np.float64))
    return timestamps(t, _EPOCH, fmt)


def quoted(values: pa.Array) -> pa.Array:
    """JSON strings: the text in double quotes, ``null`` for null."""
    return pc.fill_null(join('"', values, '"'), "null")


def raw(values: pa.Array) -> pa.Array:
    """JSON values already rendered (numbers, booleans, objects); ``null`` for null."""
    return pc.fill_null(values, "null")


def booleans(values: np.ndarray) -> pa.Array:
    """``true`` / ``false``."""
    return pc.if_else(pa.array(np.asarray(values, bool)), "true", "false")


def json_objects(fields: list[tuple], end: str = "") -> pa.Array:
    """One JSON object per row.

    Parameters
    ----------
    fields : list of tuples
        ``(key, values)`` or ``(key, values, kind)``. ``kind`` is ``str`` (text, never
        null: quoted inline), ``str?`` (text, may be null), ``raw`` (an already rendered
        JSON value, never null; the default) or ``raw?`` (may be null).
    end : str
        Text after each object (a newline for JSON lines).

    Returns
    -------
    pyarrow.Array
        The objects as text.
    """
    parts: list = []

    def literal(text: str) -> None:
        if parts and isinstance(parts[-1], str):
            parts[-1] += text
        else:
            parts.append(text)

    for i, field in enumerate(fields):
        key, values = field[0], field[1]
        kind = field[2] if len(field) > 2 else "raw"
        literal(("{" if i == 0 else ",") + f'"{key}":')
        if isinstance(values, str):
            literal(f'"{values}"' if kind.startswith("str") else values)
            continue
        if kind == "str":
            literal('"')
            parts.append(values)
            literal('"')
        elif kind == "str?":
            parts.append(quoted(values))
        elif kind == "raw?":
            parts.append(raw(values))
        else:
            parts.append(values)
    literal("}" + end)
    return join(*parts)


def json_lines(objects: pa.Array) -> pa.Buffer:
    """JSON objects as JSON-lines bytes (one object per line, UTF-8).

    Objects built by ``json_objects`` with a newline ``end`` already end their line and
    are not copied.
    """
    if len(objects) == 0:
        return pa.py_buffer(b"")
    if not pc.ends_with(objects.slice(0, 1), "\n")[0].as_py():
        objects = join(objects, "\n")
    return text_lines(objects)


def text_lines(values: pa.Array) -> pa.Buffer:
    """The bytes of a string array with no null, concatenated (no copy)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    offsets = np.frombuffer(
        values.buffers()[1], np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    data = values.buffers()[2]
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def fixed_width(chars: np.ndarray) -> pa.Array:
    """Rows of a 2-D uint8 array of ASCII codes as strings of that width."""
    n, width = chars.shape
    data = pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.StringArray.from_buffers(n, offsets, data)
