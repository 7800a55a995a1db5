"""The ground truth of the demo, written next to the sources in ``truth/``.

- ``persons.parquet``: one row per person: behaviour, first channel, planted dates (lapse,
  churn after a bad experience), home, household and identity case, and what they did.
- ``records.parquet``: every customer record of every source -> its person, with what the
  source did to it (typo, swapped names, another e-mail...).
- ``orders.parquet``: every order of every source -> its person (null for anonymous store
  tickets), with its planted flags.
- ``planted.json``: the planted parameters (``behaviours.planted_parameters``), the calendar,
  the realised rates, the bad rows of the store export (file, line, field, reason), the
  incidents planted for the monitor (``incidents``: kind, KPI, dimension and value, first and
  last day) and the fraud-like accounts (``fraud_accounts``: person, kind, source ids).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from parcours.demo import campaigns, formats, names
from parcours.demo.behaviours import (
    MOMENT_OF_TRUTH,
    ORDER_CHANNELS,
    RENEWAL_DAYS,
    SECOND_PURCHASE,
    planted_parameters,
)
from parcours.demo.catalogue import CATEGORIES, CATEGORY_INDEX, STORES
from parcours.demo.chunk import Chunk, Totals, take_or_null
from parcours.demo.incidents import IncidentPlan
from parcours.demo.people import (
    AREA_CITY,
    AREA_REGION,
    BEHAVIOUR_NAMES,
    CASES,
    EMAIL_KINDS,
    GENDERS,
    PHONE_FORMATS,
    POSTAL_CODES,
)
from parcours.demo.purchases import STATUS_NAMES
from parcours.demo.seasons import Calendar

PERSONS = "persons.parquet"
RECORDS = "records.parquet"
ORDERS = "orders.parquet"
PLANTED = "planted.json"


class TruthWriter:
    """Appends the truth tables chunk by chunk, then writes ``planted.json``.

    Parameters
    ----------
    directory : pathlib.Path
        The truth folder (created).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, columns: dict[str, Any]) -> None:
        """Append rows to one truth table (``persons.parquet``...).

        Parameters
        ----------
        name : str
            File name of the table.
        columns : dict
            Column name -> values (numpy or pyarrow arrays).
        """
        table = pa.table(columns)
        writer = self._writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(self.directory / name, table.schema)
            self._writers[name] = writer
        writer.write_table(table.cast(writer.schema))

    def close(self, planted: dict[str, Any]) -> None:
        """Close the tables and write ``planted.json``.

        Parameters
        ----------
        planted : dict
            JSON-ready planted parameters and realised values.
        """
        for writer in self._writers.values():
            writer.close()
        (self.directory / PLANTED).write_text(
            json.dumps(planted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def read_planted(truth_dir: str | Path) -> dict[str, Any]:
    """Read ``planted.json`` of a generated demo.

    Parameters
    ----------
    truth_dir : str or pathlib.Path
        The demo's truth folder.

    Returns
    -------
    dict
        The planted parameters and realised values.
    """
    return json.loads((Path(truth_dir) / PLANTED).read_text(encoding="utf-8"))


# -- truth --------------------------------------------------------------------------------
def _ts_array(t: np.ndarray, origin: date) -> pa.Array:
    base = (origin - date(1970, 1, 1)).days * 86400
    t = np.asarray(t, np.float64)
    ok = np.isfinite(t)
    sec = np.rint(np.where(ok, t, 0) * 86400).astype(np.int64) + base
    return pa.array(sec.astype("datetime64[s]"), mask=~ok)


def write_truth_chunk(truth: TruthWriter, ctx: Chunk) -> None:
    """Append one chunk's people, records and orders to the truth tables, and sum its rates.

    Parameters
    ----------
    truth : TruthWriter
        The open truth tables.
    ctx : Chunk
        What was drawn for the chunk.
    """
    n_person_orders, beh, is_store_order = ctx.person_orders, ctx.behaviour, ctx.is_store_order
    subs = ctx.subscriptions
    sources = tuple(ctx.records.items())
    p, o, cal = ctx.p, ctx.orders, ctx.cal
    n = p.rows
    start = cal.start
    po = o.take(np.arange(n_person_orders))  # orders of people, sorted by person and time
    person = po["person"]
    first = np.searchsorted(person, np.arange(n))
    count = np.bincount(person, minlength=n)
    second = np.where(count >= 2, first + 1, -1)
    t0 = po["t"][np.minimum(first, len(person) - 1)]
    t1 = np.where(second >= 0, po["t"][np.maximum(second, 0)], np.nan)
    first_channel = po["channel"][np.minimum(first, len(person) - 1)]
    completed = po["status"] == 0
    revenue = (
        np.bincount(person, weights=np.where(completed, po["total_cents"], 0), minlength=n) / 100
    )
    used = np.zeros((n, len(ORDER_CHANNELS)), bool)
    used[person, po["channel"]] = True
    pid = formats.join("P", pc.utf8_lpad(formats.integers(p["gid"] + 1), 7, "0"))
    channel_names = np.array(ORDER_CHANNELS)
    favourite = np.array([c.code for c in CATEGORIES] + [None], dtype=object)[p["favourite"]]
    renewal = np.array([RENEWAL_DAYS.get(c.code) or np.nan for c in CATEGORIES] + [np.nan])[
        p["favourite"]
    ]
    fraud_of = np.full(n, -1, np.int64)
    fraud_of[ctx.fraud["person"]] = np.arange(ctx.fraud.rows)
    truth.append(
        PERSONS,
        {
            "person_id": pid,
            "behaviour": pa.array(np.array(BEHAVIOUR_NAMES)[p["behaviour"]]),
            "main_channel": pa.array(channel_names[p["main"]]),
            "first_order_at": _ts_array(t0, start),
            "first_channel": pa.array(channel_names[first_channel]),
            "second_order_at": _ts_array(t1, start),
            "second_purchase_delay_days": t1 - t0,
            "second_purchase_rule": np.isin(
                np.array(BEHAVIOUR_NAMES)[p["behaviour"]], SECOND_PURCHASE.applies_to
            ),
            "orders": count.astype(np.int64),
            "revenue": revenue,
            "channels_used": used.sum(axis=1).astype(np.int64),
            "is_multichannel": p["behaviour"] == BEHAVIOUR_NAMES.index("multichannel"),
            "uses_several_channels": used.sum(axis=1) >= 2,
            "is_festive": p["behaviour"] == BEHAVIOUR_NAMES.index("festive"),
            "lapse_date": _ts_array(p["lapse_t"], start),
            "favourite_category": pa.array(favourite, pa.string()),
            "renewal_days": renewal,
            "bad_experience_at": _ts_array(p["bad_t"], start),
            "churned_at": _ts_array(p["churn_t"], start),
            "gender": pa.array(np.array(GENDERS)[p["gender"]]),
            "birth_date": pa.array(p["birth"].astype("datetime64[D]")),
            "first_name": names.FIRST.spell(p["first"]),
            "last_name": names.LAST.spell(p["last"]),
            "maiden_name": pc.if_else(
                pa.array(p["maiden"] >= 0),
                names.LAST.spell(np.maximum(p["maiden"], 0)),
                pa.nulls(n, pa.string()),
            ),
            "city": AREA_CITY.take(pa.array(p["area"].astype(np.int64))),
            "postal_code": POSTAL_CODES.take(pa.array(p["postal"].astype(np.int64))),
            "region": AREA_REGION.take(pa.array(p["area"].astype(np.int64))),
            "store_id": pa.array([s.code for s in STORES]).take(
                pa.array(p["store"].astype(np.int64))
            ),
            "lives_near_store": p["local"],
            "moved": p["moved"],
            "has_pro_email": p["pro_domain"] >= 0,
            "household_id": pc.if_else(
                pa.array(p["household"] >= 0),
                formats.join(
                    "H", pc.utf8_lpad(formats.integers(np.maximum(p["household"], 0) + 1), 7, "0")
                ),
                pa.nulls(n, pa.string()),
            ),
            "identity_case": pa.array(np.array(CASES)[p["case"]]),
            "email_optin_at": _ts_array(subs["subscribed"], start),
            "email_optout_at": _ts_array(subs["unsubscribed"], start),
            "fraud_like": take_or_null(pa.array(ctx.fraud["kind"], pa.string()), fraud_of),
        },
    )
    _fraud_truth(ctx, pid, sources)

    recs = []
    for name, src in sources:
        r = src.records
        recs.append(
            {
                "source": pa.array(np.full(r.rows, name)),
                "source_id": r["source_id"],
                "person_id": pid.take(pa.array(r["person"])),
                "role": pa.array(np.where(r["role"] == 0, "primary", "duplicate")),
                "created_at": _ts_array(r["created"], start),
                "typo": pa.array(np.array(["none", "first_name", "last_name"])[r["typo"]]),
                "swapped_names": r["swapped"],
                "accents_dropped": r["accents_dropped"],
                "maiden_name": r["maiden_name"],
                "email_kind": pa.array(np.array(EMAIL_KINDS)[r["email_kind"]]),
                "email_upper": r["email_upper"],
                "email_spaces": r["email_spaces"],
                "phone_format": pa.array(
                    np.array(("missing",) + PHONE_FORMATS)[r["phone_format"] + 1]
                ),
                "old_address": r["old_address"],
            }
        )
    truth.append(RECORDS, {k: pa.concat_arrays([pa.array(x[k]) for x in recs]) for k in recs[0]})

    is_person = o["person"] >= 0
    opid = take_or_null(pid, np.where(is_person, o["person"], -1))
    truth.append(
        ORDERS,
        {
            "source": pa.array(np.where(is_store_order, "store", "web")),
            "order_id": ctx.order_id,
            "customer_id": ctx.customer_id,
            "person_id": opid,
            "behaviour": pa.array(np.array(list(BEHAVIOUR_NAMES) + ["anonymous"])[beh]),
            "channel": pa.array(channel_names[o["channel"]]),
            "ordered_at": _ts_array(o["t"], start),
            "store_id": take_or_null(
                pa.array([s.code for s in STORES]), o["store"].astype(np.int64)
            ),
            "total_amount": o["total_cents"] / 100,
            "discount_amount": o["discount_cents"] / 100,
            "status": pa.array(np.array(STATUS_NAMES)[o["status"]]),
            "rank": np.where(is_person, o["rank"], -1).astype(np.int64),
            "lines": o["lines"].astype(np.int64),
            "in_promo_window": o["promo"] >= 0,
            "in_festive_window": o["festive"] >= 0,
            "click_and_collect": o["pickup"],
            "delivered": o["delivered"],
            "late_delivery": o["late"],
            "support_ticket": o["ticket"],
            "ticket_resolved": o["resolved"],
        },
    )

    # Realised values, summed over chunks, for planted.json.
    t = ctx.totals
    valid = is_person
    for b, name in enumerate(list(BEHAVIOUR_NAMES) + ["anonymous"]):
        sel = beh == b
        t.add(f"basket_{name}_sum", o["total_cents"][sel].sum() / 100)
        t.add(f"basket_{name}_n", sel.sum())
        t.add(f"orders_{name}_n", sel.sum())
    rule = np.isin(np.array(BEHAVIOUR_NAMES)[p["behaviour"]], SECOND_PURCHASE.applies_to)
    delay = t1 - t0
    for c, name in enumerate(ORDER_CHANNELS):
        sel = rule & (first_channel == c) & np.isfinite(delay) & (count > 0)
        t.add(f"second_{name}_sum", delay[sel].sum())
        t.add(f"second_{name}_n", sel.sum())
    lines = ctx.lines
    lo = lines["order"]
    cons = np.isin(lines["category"], [CATEGORY_INDEX[c] for c in RENEWAL_DAYS])
    cons &= valid[lo]
    lp, lc, lt = o["person"][lo][cons], lines["category"][cons], o["t"][lo][cons]
    order = np.lexsort((lt, lc, lp))
    lp, lc, lt = lp[order], lc[order], lt[order]
    same = (lp[1:] == lp[:-1]) & (lc[1:] == lc[:-1])
    gaps = np.diff(lt)[same]
    gcat = lc[1:][same]
    for code in RENEWAL_DAYS:
        sel = gcat == CATEGORY_INDEX[code]
        t.add(f"renewal_{code}_sum", gaps[sel].sum())
        t.add(f"renewal_{code}_n", sel.sum())
    t.add("persons_multichannel_revenue", revenue[used.sum(axis=1) >= 2].sum())
    t.add("persons_multichannel_n", (used.sum(axis=1) >= 2).sum())
    t.add("persons_monochannel_revenue", revenue[used.sum(axis=1) == 1].sum())
    t.add("persons_monochannel_n", (used.sum(axis=1) == 1).sum())
    for name in BEHAVIOUR_NAMES:
        t.add(f"share_{name}_n", (np.array(BEHAVIOUR_NAMES)[p["behaviour"]] == name).sum())


def _fraud_truth(ctx: Chunk, pid: pa.Array, sources) -> None:
    """Each fraud-like person of the chunk, with the source ids of its records."""
    for person, kind in zip(ctx.fraud["person"], ctx.fraud["kind"], strict=True):
        ids = [
            {"source": name, "source_id": str(src.records["source_id"][int(i)])}
            for name, src in sources
            for i in np.flatnonzero(src.records["person"] == person)
        ]
        ctx.totals.fraud.append(
            {"person_id": pid[int(person)].as_py(), "kind": str(kind), "records": ids}
        )


def _ratio(s: dict[str, float], num: str, den: str) -> float | None:
    d = s.get(den, 0.0)
    return round(s.get(num, 0.0) / d, 4) if d else None


def planted_summary(
    seed: int,
    customers: int,
    cal: Calendar,
    totals: Totals,
    files: dict[str, Any],
    plan: IncidentPlan,
) -> dict[str, Any]:
    """The content of ``planted.json``: parameters, calendar, realised rates, bad rows.

    Parameters
    ----------
    seed, customers : int
        How the demo was generated.
    cal : Calendar
        Its history.
    totals : Totals
        What was summed over the chunks.
    files : dict
        The demo's ``sources.NativeFile`` objects, by key.
    plan : IncidentPlan
        The incidents planted for the monitor.

    Returns
    -------
    dict
        JSON-ready data.
    """
    s = totals.sums
    realised: dict[str, Any] = {
        "basket_eur": {
            name: _ratio(s, f"basket_{name}_sum", f"basket_{name}_n")
            for name in list(BEHAVIOUR_NAMES) + ["anonymous"]
        },
        "orders": {
            name: int(s.get(f"orders_{name}_n", 0))
            for name in list(BEHAVIOUR_NAMES) + ["anonymous"]
        },
        "behaviour_shares": {
            name: round(s.get(f"share_{name}_n", 0) / customers, 6) for name in BEHAVIOUR_NAMES
        },
        "second_purchase_delay_days": {
            c: _ratio(s, f"second_{c}_sum", f"second_{c}_n") for c in ORDER_CHANNELS
        },
        "renewal_days": {c: _ratio(s, f"renewal_{c}_sum", f"renewal_{c}_n") for c in RENEWAL_DAYS},
        "funnels": {},
        "moment_of_truth": {
            "horizon_days": MOMENT_OF_TRUTH.horizon_days,
            **{
                f"{case}_repurchase_rate": _ratio(s, f"mot_{case}_repurchased", f"mot_{case}_n")
                for case in ("late", "on_time", "unresolved", "resolved")
            },
            **{
                f"{case}_n": int(s.get(f"mot_{case}_n", 0))
                for case in ("late", "on_time", "unresolved", "resolved")
            },
        },
        "winback_history": campaigns.summary(s),
        "revenue_per_customer": {
            "multichannel": _ratio(s, "persons_multichannel_revenue", "persons_multichannel_n"),
            "monochannel": _ratio(s, "persons_monochannel_revenue", "persons_monochannel_n"),
        },
    }
    for c in ("web", "app"):
        cart = s.get(f"funnel_{c}_cart_sessions", 0.0)
        realised["funnels"][c] = {
            "cart_sessions": int(cart),
            "checkout_sessions": int(s.get(f"funnel_{c}_checkout_sessions", 0)),
            "purchase_sessions": int(s.get(f"funnel_{c}_purchase_sessions", 0)),
            "abandonment": round(1 - s.get(f"funnel_{c}_purchase_sessions", 0) / cart, 4)
            if cart
            else None,
            "checkout_to_purchase": _ratio(
                s, f"funnel_{c}_purchase_sessions", f"funnel_{c}_checkout_sessions"
            ),
        }
    return {
        "seed": seed,
        "customers": customers,
        "history": {
            "start": cal.start.isoformat(),
            "as_of": cal.as_of.isoformat(),
            "days": cal.days,
            "timezone": "UTC",
        },
        "calendar": {
            "festive": [w.as_dict() for w in cal.festive],
            "promo": [w.as_dict() for w in cal.promo],
            "holidays": [w.as_dict() for w in cal.holidays],
        },
        "parameters": planted_parameters(),
        "realised": realised,
        "identify_event": "identify",
        "bad_rows": totals.bad_rows,
        "incidents": [i.as_dict() for i in plan.all],
        "fraud_accounts": totals.fraud,
        "files": {
            k: {
                "path": str(f.path.relative_to(f.path.parent.parent)),
                "rows": f.rows,
                "kind": f.kind,
                "source": f.source,
            }
            for k, f in files.items()
        },
    }
