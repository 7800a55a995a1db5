"""``generate``: a seeded synthetic omnichannel retailer with its ground truth.

People are generated in chunks of ``CHUNK_PERSONS``; each chunk draws its people, their
orders, records, consents and events with numpy, appends them to every source file and to
the truth tables, and is then dropped, so memory stays bounded whatever the size. A chunk's
random numbers come from ``(seed, chunk)``, so the output depends only on the seed, the
number of customers and ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from parcours.demo import formats
from parcours.demo.aftersales import (
    apply_moment_of_truth,
    make_aftersales,
    make_surveys,
    repurchase_counts,
)
from parcours.demo.behaviours import BEHAVIOURS, IDENTITY_NOISE
from parcours.demo.campaigns import plant_winback, write_sends
from parcours.demo.catalogue import Catalogue
from parcours.demo.chunk import Chunk, Totals, first_time
from parcours.demo.columns import Columns
from parcours.demo.consents import email_subscriptions, make_consents
from parcours.demo.emails import campaigns
from parcours.demo.incidents import (
    misprice,
    plan_incidents,
    plant_fraud,
    plant_in_anonymous,
    plant_in_orders,
)
from parcours.demo.people import (
    BEHAVIOUR_NAMES,
    email_numbers,
    hex_ids,
    id_numbers,
    make_persons,
    mobile_numbers,
    source_records,
)
from parcours.demo.purchases import (
    ANONYMOUS,
    APP,
    PHONE,
    STORE,
    WEB,
    make_anonymous_orders,
    make_lines,
    make_orders,
)
from parcours.demo.seasons import Calendar
from parcours.demo.sources import (
    DemoFile,
    mappings,
    open_files,
    write_chunk,
    write_products,
    write_stores,
)
from parcours.demo.truth import TruthWriter, planted_summary, write_truth_chunk

CHUNK_PERSONS = 50_000
DEFAULT_AS_OF = date(2026, 10, 31)


@dataclass(frozen=True)
class DemoManifest:
    """What ``generate`` wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
        The demo folder.
    files : list of DemoFile
        Every input file, in ingestion order (stores, products, customers, orders,
        order-lines, consents, events).
    sources : dict
        The mapping of each source, ready to put under ``sources:`` in ``parcours.yaml``
        (also written as ``mappings/<source>.yaml``).
    truth_dir : pathlib.Path
        The ground truth folder.
    seed : int
        The seed.
    as_of : datetime.date
        Last day of the history.
    persons, source_records, orders, order_lines, events, consents, bad_rows : int
        How many of each were written (``orders`` and ``order_lines`` count only valid rows;
        ``bad_rows`` counts the rows planted to be quarantined).
    """

    out_dir: Path
    files: list[DemoFile]
    sources: dict[str, dict]
    truth_dir: Path
    seed: int
    as_of: date
    persons: int
    source_records: int
    orders: int
    order_lines: int
    events: int
    consents: int
    bad_rows: int


def assign_behaviours(customers: int, seed: int) -> np.ndarray:
    """The behaviour of every person: exact shares (largest remainder), shuffled.

    Parameters
    ----------
    customers : int
        Number of people.
    seed : int
        The seed.

    Returns
    -------
    numpy.ndarray
        Behaviour index (into ``BEHAVIOURS``) of each person.
    """
    shares = np.array([b.share for b in BEHAVIOURS.values()])
    exact = shares / shares.sum() * customers
    counts = np.floor(exact).astype(np.int64)
    short = customers - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    codes = np.repeat(np.arange(len(shares)), counts).astype(np.int8)
    return np.random.default_rng([seed, 0]).permutation(codes)


def generate(
    out_dir: Path,
    customers: int = 10_000,
    seed: int = 42,
    as_of: date = DEFAULT_AS_OF,
) -> DemoManifest:
    """Generate the demo retailer's source files and ground truth in ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder to write (created; existing demo files are overwritten).
    customers : int
        Number of people.
    seed : int
        Seed of every random draw.
    as_of : datetime.date
        Last day of the history, which starts on 1 January two years before.

    Returns
    -------
    DemoManifest
        The files, their mappings, the truth folder and the counts.

    Examples
    --------
    >>> import tempfile
    >>> m = generate(Path(tempfile.mkdtemp()), customers=300, seed=1)
    >>> m.persons, m.files[0].kind
    (300, 'stores')
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1. Got {customers} instead.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = Calendar.build(as_of)
    cat = Catalogue()
    camps = campaigns(cal)
    plan = plan_incidents(seed, cal)
    behaviour = assign_behaviours(customers, seed)
    files = open_files(out_dir)
    write_stores(files["stores"])
    write_products(files["products"])
    truth = TruthWriter(out_dir / "truth")
    totals = Totals()
    try:
        for chunk, first in enumerate(range(0, customers, CHUNK_PERSONS)):
            rng = np.random.default_rng([seed, 1, chunk])
            _generate_chunk(
                rng,
                np.random.default_rng([seed, 18, chunk]),
                plan,
                first,
                behaviour[first : first + CHUNK_PERSONS],
                customers,
                cal,
                cat,
                camps,
                files,
                truth,
                totals,
            )
    finally:
        for f in files.values():
            f.close()
    truth.close(planted_summary(seed, customers, cal, totals, files, plan))
    sources = mappings()
    mapping_dir = out_dir / "mappings"
    mapping_dir.mkdir(exist_ok=True)
    for name, mapping in sources.items():
        (mapping_dir / f"{name}.yaml").write_text(
            yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    return DemoManifest(
        out_dir=out_dir,
        files=[f.demo_file for f in files.values()],
        sources=sources,
        truth_dir=out_dir / "truth",
        seed=seed,
        as_of=as_of,
        persons=customers,
        source_records=totals.records,
        orders=totals.orders,
        order_lines=totals.lines,
        events=totals.events,
        consents=totals.consents,
        bad_rows=len(totals.bad_rows),
    )


def _generate_chunk(
    rng, plant_rng, plan, first, behaviour, customers, cal, cat, camps, files, truth, totals: Totals
) -> None:
    days = float(cal.days)
    p = make_persons(rng, first, behaviour, cal.as_of)
    n = p.rows
    gid = p["gid"]
    email_num = email_numbers(gid, customers)
    mobile = mobile_numbers(gid)

    # Orders of people, their after-sales and the moment of truth.
    o = make_orders(rng, p, cal)
    o = plant_in_orders(plant_rng, plan, o, p, cal)
    o, fraud = plant_fraud(plant_rng, o, p, cal)
    make_aftersales(rng, o, days)
    o = o.take(apply_moment_of_truth(rng, o, p))
    for key, value in repurchase_counts(o, days).items():
        totals.add(f"mot_{key}", value)
    sends = plant_winback(rng.spawn(1)[0], o, cal)
    n_person_orders = o.rows
    anon = make_anonymous_orders(rng, int(np.sum(o["channel"] == STORE)), cal)
    anon = plant_in_anonymous(plant_rng, plan, anon, cal)
    for name, values in o.items():
        if name not in anon:
            anon[name] = (
                np.zeros(anon.rows, values.dtype)
                if values.dtype != np.float64
                else np.full(anon.rows, np.nan)
            )
    orders = Columns.concat([o, anon])
    beh = np.concatenate([p["behaviour"][o["person"]], np.full(anon.rows, ANONYMOUS)])
    lines = make_lines(rng, orders, beh, p, cat)
    misprice(plan, orders, lines, cal)
    person = orders["person"]
    is_person = person >= 0
    surveys = make_surveys(rng, orders, days)

    # Which sources know each person, and since when.
    ch = orders["channel"]
    in_store = is_person & ((ch == STORE) | (ch == PHONE))
    online = is_person & ((ch == WEB) | (ch == APP))
    first_store = first_time(n, person, orders["t"], in_store)
    first_online = first_time(n, person, orders["t"], online)
    first_app = first_time(n, person, orders["t"], is_person & (ch == APP))
    first_any = np.minimum(first_store, first_online)
    research_p = np.array([BEHAVIOURS[b].research_online_prob for b in BEHAVIOUR_NAMES])
    loyalty_p = np.array([BEHAVIOURS[b].app_loyalty_prob for b in BEHAVIOUR_NAMES])
    has_online = np.isfinite(first_online)
    research = ~has_online & (rng.random(n) < research_p[p["behaviour"]])
    web_created = np.where(
        has_online,
        np.maximum(np.nan_to_num(first_online, posinf=0.0) - 20 * rng.random(n), 0),
        first_any + rng.random(n) * np.maximum(days - 5 - first_any, 0.0),
    )
    has_app_order = np.isfinite(first_app)
    app_loyal = (
        ~has_app_order & np.isfinite(first_store) & (rng.random(n) < loyalty_p[p["behaviour"]])
    )
    later = np.where(np.isfinite(first_store), first_store, 0.0)
    app_created = np.where(
        has_app_order,
        np.maximum(np.nan_to_num(first_app, posinf=0.0) - 7 * rng.random(n), 0),
        later + rng.random(n) * (days - later),
    )
    has_web = has_online | research
    has_app = has_app_order | app_loyal
    web_created = np.where(has_web, web_created, np.nan)
    app_created = np.where(has_app, app_created, np.nan)

    store_src = source_records(
        rng, p, np.isfinite(first_store), first_store, "store", days, email_num, mobile
    )
    web_src = source_records(rng, p, has_web, web_created, "web", days, email_num, mobile)
    app_src = source_records(rng, p, has_app, app_created, "app", days, email_num, mobile)
    for src, name in ((store_src, "store"), (web_src, "web"), (app_src, "app")):
        r = src.records
        key = p["gid"][r["person"]] * 2 + r["role"]
        if name == "store":
            r["source_id"] = formats.integers(id_numbers(key, 2 * customers, 11, 8))
            r["loyalty_id"] = formats.integers(id_numbers(key, 2 * customers, 977, 13))
        elif name == "web":
            r["source_id"] = formats.integers(id_numbers(key, 2 * customers, 101, 7))
        else:
            r["source_id"] = hex_ids(key, 5)

    # The account behind each order.
    account = np.full(orders.rows, -1, np.int64)
    account[in_store] = store_src.account(rng, person[in_store], orders["t"][in_store])
    account[online] = web_src.account(rng, person[online], orders["t"][online])
    customer_id = pc.if_else(
        pa.array(in_store), store_src.ids(account), web_src.ids(np.where(online, account, -1))
    )

    # Order ids: till receipts numbered in time order, web-shop orders likewise.
    is_store_order = (ch == STORE) | (ch == PHONE)
    order_no = np.zeros(orders.rows, np.int64)
    for mask, name, base in (
        (is_store_order, "ticket", 2_000_000_000),
        (~is_store_order, "web_order", 100_000_000),
    ):
        idx = np.flatnonzero(mask)
        idx = idx[np.argsort(orders["t"][idx], kind="stable")]
        order_no[idx] = base + totals.next_ids(name, len(idx))
    order_id = formats.integers(order_no)

    # Consents, the e-mail platform's contacts, the service desk's requesters.
    store_cons = make_consents(rng, store_src.records, "store", days)
    web_cons = make_consents(rng, web_src.records, "web", days)
    app_cons = make_consents(rng, app_src.records, "app", days)
    subs = email_subscriptions([(store_src.records, store_cons), (web_src.records, web_cons)], n)
    subscribed = ~np.isnan(subs["subscribed"])
    mail_src = source_records(
        rng, p, subscribed, subs["subscribed"], "emailing", days, email_num, mobile
    )
    mr = mail_src.records
    upper = rng.random(mr.rows) < IDENTITY_NOISE["emailing"].email_upper
    mr["email"] = subs["email"].take(pa.array(mr["person"]))
    mr["email"] = pc.if_else(pa.array(upper), pc.utf8_upper(mr["email"]), mr["email"])
    mr["email_upper"] = upper
    mr["email_kind"] = np.zeros(mr.rows, np.int8)
    mr["source_id"] = formats.integers(id_numbers(p["gid"][mr["person"]], customers, 303, 9))
    ticket_rows = np.flatnonzero(orders["ticket"] & is_person)
    first_service = np.fmin(
        first_time(n, person, orders["opened_t"], orders["ticket"] & is_person),
        first_time(n, person[surveys["order"]], surveys["t"], np.ones(surveys.rows, bool)),
    )
    svc_src = source_records(
        rng, p, np.isfinite(first_service), first_service, "service", days, email_num, mobile
    )
    svc_src.records["source_id"] = formats.integers(
        id_numbers(p["gid"][svc_src.records["person"]], customers, 707, 8)
    )

    chunk = Chunk(
        cal=cal,
        cat=cat,
        camps=camps,
        customers=customers,
        p=p,
        orders=orders,
        behaviour=beh,
        person_orders=n_person_orders,
        lines=lines,
        surveys=surveys,
        order_id=order_id,
        customer_id=customer_id,
        account=account,
        is_store_order=is_store_order,
        online=online,
        web_created=web_created,
        app_created=app_created,
        research=research,
        ticket_rows=ticket_rows,
        records={
            "store": store_src,
            "web": web_src,
            "app": app_src,
            "emailing": mail_src,
            "service": svc_src,
        },
        consents={"store": store_cons, "web": web_cons, "app": app_cons},
        subscriptions=subs,
        fraud=fraud,
        totals=totals,
        files=files,
    )
    write_chunk(rng, chunk)
    write_sends(chunk, sends)
    write_truth_chunk(truth, chunk)
    totals.records += sum(src.records.rows for src in chunk.records.values())
    totals.consents += sum(c.rows for c in chunk.consents.values())
    totals.orders += orders.rows
    totals.lines += lines.rows
