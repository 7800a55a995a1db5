"""The facts every analysis stage reads, defined once: purchases, the as-of date, the profile.

A *purchase* is a completed order of a known person placed on or before the as-of date;
cancelled and returned orders never count as revenue or as activity.
"""

from __future__ import annotations

import datetime as dt

import ibis

from parcours.engine import Engine, arrow_rows
from parcours.errors import MissingInputError
from parcours.schema import CUSTOMER_KEY, CUSTOMER_ORDERS

PROFILE = "customer_profile"


def as_date(value: dt.date | None) -> dt.date | None:
    """A date as the engines return it (a date, or a timestamp at midnight) as a date."""
    return value.date() if isinstance(value, dt.datetime) else value


def resolve_as_of(engine: Engine, as_of: dt.date | None) -> dt.date:
    """The analysis date: ``as_of`` when given, else the date of the last order."""
    if as_of is not None:
        return as_of
    if not engine.has_table(CUSTOMER_ORDERS.name):
        raise MissingInputError(
            "no resolved orders in the workspace",
            hint="ingest orders and customers, then run: parcours resolve",
        )
    last = engine.execute(engine.table(CUSTOMER_ORDERS.name).ordered_at.max())
    if last is None:
        raise MissingInputError("the workspace has no orders", hint="parcours ingest orders FILE")
    return as_date(last)


def end_of(as_of: dt.date) -> ibis.Value:
    """The first instant after the as-of date (orders *on* the as-of date count)."""
    return ibis.timestamp(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))


def purchases(engine: Engine, as_of: dt.date) -> ibis.Table:
    """Completed orders of known persons placed on or before ``as_of``."""
    o = engine.table(CUSTOMER_ORDERS.name)
    return o.filter(
        o[CUSTOMER_KEY].notnull(), o.status == "completed", o.ordered_at < end_of(as_of)
    )


def purchases_or_none(engine: Engine, as_of: dt.date) -> ibis.Table:
    """``purchases``, or an empty table of the same columns when no orders were resolved."""
    if engine.has_table(CUSTOMER_ORDERS.name):
        return purchases(engine, as_of)
    return engine.from_arrow(arrow_rows([], CUSTOMER_ORDERS), "no_purchases")


def with_profile_columns(engine: Engine, extra: ibis.Table) -> ibis.Table:
    """``customer_profile`` with the columns of ``extra`` (keyed by customer_key) joined on.

    Columns of ``extra`` already in the profile are replaced, so a stage can rerun; persons
    missing from ``extra`` get nulls.
    """
    profile = engine.table(PROFILE)
    new = [c for c in extra.columns if c != CUSTOMER_KEY]
    kept = profile.drop(*[c for c in new if c in profile.columns])
    return kept.left_join(extra, kept[CUSTOMER_KEY] == extra[CUSTOMER_KEY]).select(
        *[kept[c] for c in kept.columns], *[extra[c] for c in new]
    )


def add_profile_columns(engine: Engine, extra: ibis.Table, *, stage: str) -> None:
    """Write ``customer_profile`` with the columns of ``extra`` (``with_profile_columns``)."""
    engine.write(PROFILE, with_profile_columns(engine, extra), stage=stage)
