"""Near real time: each load of the collection log updates the persons it touched.

A full ``parcours run`` rebuilds the identity graph and every profile. Between two runs, a
load that brings an identify, an order or a consent updates only the persons whose records it
touched, with the builders the stages use, filtered to those persons:

- a record not yet in the identity map joins the person holding the same email, else the
  same phone (resolve's deterministic links), or becomes a new person;
- their keyed orders, events and consents, golden record and profile row are recomputed;
- the profile row counts purchases up to the newest of the profile date and their latest
  order, keeps the profile's date, and gets its lifecycle segment again; what later stages
  added (RFM scores, personas) keeps the last run's values.

Probabilistic matching, merges of two known persons and splits wait for the next
``parcours resolve``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import pyarrow as pa

from parcours.engine import Engine
from parcours.facts import as_date
from parcours.identity.golden import golden_records
from parcours.identity.keyed import customer_consents, customer_events, customer_orders
from parcours.identity.keys import KEY_DIGITS, KEY_PREFIX
from parcours.metrics.categories import renewal_times
from parcours.metrics.profile import customer_profile
from parcours.schema import (
    CONSENTS,
    CUSTOMER_CATEGORIES,
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMER_PROFILE,
    CUSTOMERS,
    CUSTOMERS_GOLDEN,
    EVENTS,
    GOLDEN_LINEAGE,
    IDENTITY_MAP,
    ORDERS,
    SOURCE,
)
from parcours.segments.lifecycle import lifecycle_segments
from parcours.workspace import Workspace

STAGE = "live"
# Identifiers that join a new record to a known person, strongest first.
LINKS = ("email", "phone")


@dataclass
class LiveUpdate:
    """What one update did: records touched, of them new to the identity map, persons updated."""

    records: int = 0
    new_records: int = 0
    persons: int = 0


def _key_of_new_record(rid: str) -> str:
    return KEY_PREFIX + hashlib.md5(f"{rid}#live".encode()).hexdigest().upper()[:KEY_DIGITS]


def _pairs(engine: Engine, records: Iterable[tuple[str, str]], name: str) -> ibis.Table:
    src, sid = zip(*sorted(records), strict=True)
    data = pa.table({"_src": pa.array(src, pa.string()), "_sid": pa.array(sid, pa.string())})
    return engine.from_arrow(data, name)


def _mine(t: ibis.Table, pairs: ibis.Table, column: str) -> ibis.BooleanValue:
    """True on the rows of ``t`` whose (source, ``column``) is one of ``pairs``."""
    rid = t[SOURCE] + ":" + t[column]
    return rid.isin(pairs.select(rid=pairs._src + ":" + pairs._sid).rid)


def _link_new_records(engine: Engine, touched: ibis.Table, now: dt.datetime) -> int:
    ids = engine.table(IDENTITY_MAP.name)
    new = touched.anti_join(ids, (ids[SOURCE] == touched._src) & (ids.source_id == touched._sid))
    new_rows = engine.to_pyarrow(new).to_pylist()
    if not new_rows:
        return 0
    found: dict[tuple[str, str], dict] = {(r["_src"], r["_sid"]): {} for r in new_rows}
    known: dict[tuple[str, str], str] = {}  # (link, value) -> customer_key
    if engine.has_table(CUSTOMERS.name):
        c = engine.table(CUSTOMERS.name)
        for r in engine.to_pyarrow(
            c.semi_join(new, (c[SOURCE] == new._src) & (c.source_id == new._sid)).select(
                SOURCE, "source_id", *LINKS
            )
        ).to_pylist():
            found[(r[SOURCE], r["source_id"])] = r
        values = {link: sorted({r[link] for r in found.values() if r.get(link)}) for link in LINKS}
        kc = c.join(ids, [SOURCE, "source_id"])
        for link, wanted in values.items():
            if not wanted:
                continue
            hits = (
                kc.filter(kc[link].isin(wanted))
                .group_by(value=kc[link])
                .aggregate(key=kc[CUSTOMER_KEY].min())
            )
            for r in engine.to_pyarrow(hits).to_pylist():
                known[(link, r["value"])] = r["key"]
    rows = []
    for (src, sid), rec in sorted(found.items()):
        key, method = None, "single"
        for link in LINKS:
            if rec.get(link) and (link, rec[link]) in known:
                key, method = known[(link, rec[link])], link
                break
        key = key or _key_of_new_record(f"{src}:{sid}")
        for link in LINKS:  # a second new record with the same email joins this one
            if rec.get(link):
                known.setdefault((link, rec[link]), key)
        rows.append(
            {SOURCE: src, "source_id": sid, CUSTOMER_KEY: key, "method": method, "resolved_at": now}
        )
    added = engine.from_arrow(
        pa.Table.from_pylist(rows, schema=engine.to_pyarrow(ids.limit(0)).schema), "_live_map"
    )
    engine.write(IDENTITY_MAP.name, ids.union(added), stage=STAGE)
    return len(rows)


def update_persons(ws: Workspace, records: Iterable[tuple[str, str]]) -> LiveUpdate:
    """Bring the single customer view and the profile of the persons of ``records`` up to date.

    Parameters
    ----------
    ws
        The workspace, its engine open for writing.
    records
        ``(source, source_id)`` of the customer records a load touched.

    Returns
    -------
    LiveUpdate
        Counts of what was updated; nothing happens before the first ``parcours resolve``.
    """
    engine = ws.engine
    records = {(s, i) for s, i in records if s and i}
    out = LiveUpdate(records=len(records))
    if not records or not engine.has_table(IDENTITY_MAP.name):
        return out
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with engine.batch():
        touched = _pairs(engine, records, "_live_records")
        out.new_records = _link_new_records(engine, touched, now)
        ids = engine.table(IDENTITY_MAP.name)
        keys = engine.to_pyarrow(
            ids.filter(_mine(ids, touched, "source_id")).select(CUSTOMER_KEY).distinct()
        )[CUSTOMER_KEY].to_pylist()
        out.persons = len(keys)
        # Every record of those persons: a new record may have joined a person of several.
        theirs = ids.filter(ids[CUSTOMER_KEY].isin(keys))
        person_records = theirs.select(_src=theirs[SOURCE], _sid=theirs.source_id)
        _update_facts(engine, person_records, ids)
        if engine.has_table(CUSTOMERS.name) and engine.has_table(CUSTOMERS_GOLDEN.name):
            gold, lineage = golden_records(engine.table(CUSTOMERS.name), theirs, ws.config.identity)
            for name, expr in ((CUSTOMERS_GOLDEN.name, gold), (GOLDEN_LINEAGE.name, lineage)):
                if engine.has_table(name):
                    t = engine.table(name)
                    engine.replace_rows(name, t[CUSTOMER_KEY].isin(keys), expr, stage=STAGE)
        if engine.has_table(CUSTOMER_PROFILE.name) and engine.has_table(CUSTOMER_ORDERS.name):
            _update_profile(ws, keys)
    return out


def _update_facts(engine: Engine, person_records: ibis.Table, ids: ibis.Table) -> None:
    if engine.has_table(ORDERS.name) and engine.has_table(CUSTOMER_ORDERS.name):
        o = engine.table(ORDERS.name)
        co = engine.table(CUSTOMER_ORDERS.name)
        engine.replace_rows(
            CUSTOMER_ORDERS.name,
            _mine(co, person_records, "customer_id"),
            customer_orders(o.filter(_mine(o, person_records, "customer_id")), ids),
            stage=STAGE,
        )
    if engine.has_table(EVENTS.name) and engine.has_table(CUSTOMER_EVENTS.name):
        e = engine.table(EVENTS.name)
        # A visitor's anonymous events follow the person an identify named.
        mine = _mine(e, person_records, "customer_id")
        visitors = e.filter(mine & e.anonymous_id.notnull()).select(v=e.anonymous_id).distinct()
        ce = engine.table(CUSTOMER_EVENTS.name)
        engine.replace_rows(
            CUSTOMER_EVENTS.name,
            _mine(ce, person_records, "customer_id") | ce.anonymous_id.isin(visitors.v),
            customer_events(e.filter(mine | e.anonymous_id.isin(visitors.v)), ids),
            stage=STAGE,
        )
    if engine.has_table(CONSENTS.name) and engine.has_table(CUSTOMER_CONSENTS.name):
        c = engine.table(CONSENTS.name)
        cc = engine.table(CUSTOMER_CONSENTS.name)
        mine_keys = ids.filter(_mine(ids, person_records, "source_id"))[CUSTOMER_KEY]
        engine.replace_rows(
            CUSTOMER_CONSENTS.name,
            cc[CUSTOMER_KEY].isin(mine_keys),
            customer_consents(c.filter(_mine(c, person_records, "customer_id")), ids),
            stage=STAGE,
        )


def _update_profile(ws: Workspace, keys: list[str]) -> None:
    engine = ws.engine
    old = engine.table(CUSTOMER_PROFILE.name)
    as_of = as_date(engine.execute(old.as_of.max()))
    if as_of is None:
        return
    co = engine.table(CUSTOMER_ORDERS.name)
    latest = engine.execute(co.filter(co[CUSTOMER_KEY].isin(keys)).ordered_at.max())
    counted_to = max(as_of, latest.date()) if latest is not None else as_of
    categories = (
        engine.table(CUSTOMER_CATEGORIES.name)
        if engine.has_table(CUSTOMER_CATEGORIES.name)
        else None
    )
    base = customer_profile(engine, counted_to, ws.config, categories)
    base = base.filter(base[CUSTOMER_KEY].isin(keys)).mutate(as_of=ibis.date(as_of))
    later = [c for c in old.columns if c not in base.columns]
    kept = old.select(CUSTOMER_KEY, *later)
    rows = base.left_join(kept, base[CUSTOMER_KEY] == kept[CUSTOMER_KEY]).select(
        *[base[c] for c in base.columns], *[kept[c] for c in later]
    )
    engine.replace_rows(CUSTOMER_PROFILE.name, old[CUSTOMER_KEY].isin(keys), rows, stage=STAGE)
    if "lifecycle_segment" in later:
        profile = engine.table(CUSTOMER_PROFILE.name)
        renewal = renewal_times(categories) if categories is not None else None
        segment = lifecycle_segments(profile, renewal, ws.config.lifecycle)
        seg = segment.filter(segment[CUSTOMER_KEY].isin(keys))
        p = engine.table(CUSTOMER_PROFILE.name)
        mine = p.filter(p[CUSTOMER_KEY].isin(keys))
        updated = mine.left_join(seg, mine[CUSTOMER_KEY] == seg[CUSTOMER_KEY]).select(
            *[mine[c] for c in p.columns if c != "lifecycle_segment"],
            lifecycle_segment=seg.lifecycle_segment,
        )
        engine.replace_rows(CUSTOMER_PROFILE.name, p[CUSTOMER_KEY].isin(keys), updated, stage=STAGE)
