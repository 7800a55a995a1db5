"""The state shared by the steps of one chunk, and the totals kept across chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.demo import formats
from parcours.demo.catalogue import Catalogue
from parcours.demo.columns import Columns
from parcours.demo.seasons import Calendar


@dataclass
class Totals:
    """What is summed over the chunks: counts, id sequences, realised rates, bad rows."""

    records: int = 0
    orders: int = 0
    lines: int = 0
    events: int = 0
    consents: int = 0
    sequences: dict[str, int] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    fraud: list[dict[str, Any]] = field(default_factory=list)

    def next_ids(self, name: str, count: int) -> np.ndarray:
        """The next ``count`` numbers of the sequence ``name`` (from 0)."""
        start = self.sequences.get(name, 0)
        self.sequences[name] = start + count
        return np.arange(start, start + count, dtype=np.int64)

    def add(self, key: str, value: float) -> None:
        """Add ``value`` to the running sum ``key``."""
        self.sums[key] = self.sums.get(key, 0.0) + float(value)


def take_or_null(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """``values`` at ``idx``, null where ``idx`` is -1."""
    out = values.take(pa.array(np.maximum(idx, 0), pa.int64()))
    return pc.if_else(pa.array(idx >= 0), out, pa.nulls(len(idx), pa.string()))


def first_time(n: int, person: np.ndarray, t: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per person (``n`` of them), the earliest ``t`` of the rows in ``mask`` (inf: none)."""
    out = np.full(n, np.inf)
    np.minimum.at(out, person[mask], t[mask])
    return out


@dataclass
class SourceRecords:
    """One source's records in a chunk, and where each person's records are."""

    records: Columns
    primary: np.ndarray  # per person: position of the main record, -1 when none
    duplicate: np.ndarray  # per person: position of the duplicate, -1 when none
    duplicate_created: np.ndarray

    def account(self, rng: np.random.Generator, person: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The record an order or event uses: the duplicate, half the time once it exists."""
        dup = self.duplicate[person]
        use = (dup >= 0) & (t > self.duplicate_created[person]) & (rng.random(len(person)) < 0.5)
        return np.where(use, dup, self.primary[person])

    def ids(self, idx: np.ndarray) -> pa.Array:
        """Source ids of the records at ``idx`` (null where -1)."""
        return take_or_null(self.records["source_id"], idx)


@dataclass
class Chunk:
    """Everything drawn for one chunk of people, as the writers of sources and truth read it.

    Orders are those of people (sorted by person and time, the first ``person_orders``
    rows) followed by the anonymous store tickets; ``behaviour`` is each order's behaviour
    code. Per-person arrays are indexed like ``p``.
    """

    cal: Calendar
    cat: Catalogue
    camps: Columns
    customers: int
    p: Columns
    orders: Columns
    behaviour: np.ndarray
    person_orders: int
    lines: Columns
    surveys: Columns
    order_id: pa.Array
    customer_id: pa.Array
    account: np.ndarray  # record position of the account behind each order, -1 when none
    is_store_order: np.ndarray
    online: np.ndarray
    web_created: np.ndarray
    app_created: np.ndarray
    research: np.ndarray
    ticket_rows: np.ndarray
    records: dict[str, SourceRecords]
    consents: dict[str, Columns]
    subscriptions: Columns
    fraud: Columns  # the fraud-like persons (``person``, ``kind``)
    totals: Totals
    files: dict[str, Any]  # key -> sources.NativeFile

    def ts(self, t: np.ndarray, fmt: str = formats.ISO) -> pa.Array:
        """Times of the chunk (days from the start of the history) as text."""
        return formats.timestamps(t, self.cal.start, fmt)
