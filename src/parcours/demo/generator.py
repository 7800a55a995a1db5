"""``generate``: a seeded synthetic omnichannel retailer with its ground truth.

People are generated in chunks of ``CHUNK_PERSONS``; each chunk draws its people, their
orders, records, consents and events with numpy, appends them to every source file and to
the truth tables, and is then dropped, so memory stays bounded whatever the size. A chunk's
random numbers come from ``(seed, chunk)``, so the output depends only on the seed, the
number of customers and ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from parcours.demo import formats, names
from parcours.demo.aftersales import (
    TICKET_TOPICS,
    TICKET_VIA,
    apply_moment_of_truth,
    make_aftersales,
    make_surveys,
    repurchase_counts,
)
from parcours.demo.behaviours import (
    BAD_ROWS,
    BEHAVIOURS,
    FUNNELS,
    IDENTITY_NOISE,
    MOMENT_OF_TRUTH,
    ORDER_CHANNELS,
    RENEWAL_DAYS,
    SECOND_PURCHASE,
    planted_parameters,
)
from parcours.demo.catalogue import CATEGORIES, CATEGORY_INDEX, STORES, WEB_DOMAIN, Catalogue
from parcours.demo.columns import Columns
from parcours.demo.consents import CONSENT_CHANNELS, email_subscriptions, make_consents
from parcours.demo.emails import ACTIONS, campaigns, email_activity
from parcours.demo.people import (
    AREA_CITY,
    AREA_REGION,
    BEHAVIOUR_NAMES,
    CASES,
    EMAIL_KINDS,
    GENDERS,
    PHONE_FORMATS,
    POSTAL_CODES,
    email_numbers,
    hex_ids,
    id_numbers,
    make_persons,
    make_records,
    mobile_numbers,
)
from parcours.demo.purchases import (
    ANONYMOUS,
    APP,
    PHONE,
    STATUS_NAMES,
    STORE,
    WEB,
    make_anonymous_orders,
    make_lines,
    make_orders,
)
from parcours.demo.seasons import Calendar
from parcours.demo.sessions import (
    BUY,
    CART,
    CHECKOUT,
    LOYALTY_CARD,
    funnel_sessions,
    loyalty_card_sessions,
    prospect_sessions,
    render_events,
    research_sessions,
    session_events,
)
from parcours.demo.sources import (
    CANAL,
    STATUT,
    STORE_DATE,
    STORE_DATETIME,
    WEB_STATES,
    DemoFile,
    NativeFile,
    mappings,
    segment_objects,
    write_products,
    write_stores,
)
from parcours.demo.truth import ORDERS, PERSONS, RECORDS, TruthWriter

CHUNK_PERSONS = 50_000
DEFAULT_AS_OF = date(2026, 10, 31)
CARRIERS = ("Colissimo", "Chronopost", "DPD", "Mondial Relay")
PROSPECT_SESSIONS_PER_ORDER = 0.3


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


@dataclass
class _Totals:
    """What is summed over the chunks: counters, id sequences and realised rates."""

    records: int = 0
    orders: int = 0
    lines: int = 0
    events: int = 0
    consents: int = 0
    tickets_seq: int = 0
    web_orders_seq: int = 0
    support_seq: int = 0
    prospects_seq: int = 0
    sequences: dict[str, int] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)

    def next_ids(self, name: str, count: int) -> np.ndarray:
        start = self.sequences.get(name, 0)
        self.sequences[name] = start + count
        return np.arange(start, start + count, dtype=np.int64)

    def add(self, key: str, value: float) -> None:
        self.sums[key] = self.sums.get(key, 0.0) + float(value)


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
    behaviour = assign_behaviours(customers, seed)
    files = _open_files(out_dir)
    write_stores(files["stores"])
    write_products(files["products"])
    truth = TruthWriter(out_dir / "truth")
    totals = _Totals()
    try:
        for chunk, first in enumerate(range(0, customers, CHUNK_PERSONS)):
            rng = np.random.default_rng([seed, 1, chunk])
            _generate_chunk(
                rng,
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
    truth.close(_planted(seed, customers, cal, totals, files))
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


def _open_files(out_dir: Path) -> dict[str, NativeFile]:
    store = {"delimiter": ";", "encoding": "latin-1", "quoting": "none"}
    spec = (
        ("stores", "store/magasins.csv", "stores", "store", store),
        (
            "products",
            "catalogue/articles.tsv",
            "products",
            "catalogue",
            {"delimiter": "\t", "quoting": "none"},
        ),
        ("store_customers", "store/clients.csv", "customers", "store", store),
        ("web_customers", "web/accounts.csv", "customers", "web", {"delimiter": ","}),
        ("app_customers", "app/users.jsonl", "customers", "app", {}),
        (
            "emailing_customers",
            "emailing/contacts.csv",
            "customers",
            "emailing",
            {"delimiter": ","},
        ),
        ("service_customers", "service/requesters.csv", "customers", "service", {"delimiter": ","}),
        ("store_orders", "store/tickets.csv", "orders", "store", store),
        ("web_orders", "web/orders.jsonl", "orders", "web", {}),
        ("store_lines", "store/lignes.csv", "order-lines", "store", store),
        ("web_lines", "web/order_items.csv", "order-lines", "web", {"delimiter": ","}),
        ("store_consents", "store/consentements.csv", "consents", "store", store),
        ("web_consents", "web/consents.csv", "consents", "web", {"delimiter": ","}),
        ("app_consents", "app/push_consents.jsonl", "consents", "app", {}),
        ("web_events", "web/events.jsonl", "events", "web", {}),
        ("web_deliveries", "web/deliveries.jsonl", "events", "web", {}),
        ("app_events", "app/events.jsonl", "events", "app", {}),
        ("emailing_events", "emailing/activity.jsonl", "events", "emailing", {}),
        ("service_events", "service/events.jsonl", "events", "service", {}),
    )
    return {
        key: NativeFile(out_dir / rel, kind, source, **kw) for key, rel, kind, source, kw in spec
    }


def _first_time(n: int, person: np.ndarray, t: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, person[mask], t[mask])
    return out


def _nan_inf(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, np.nan)


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """``values`` at ``idx``, null where ``idx`` is -1."""
    out = values.take(pa.array(np.maximum(idx, 0), pa.int64()))
    return pc.if_else(pa.array(idx >= 0), out, pa.nulls(len(idx), pa.string()))


@dataclass
class _Source:
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
        return _take(self.records["source_id"], idx)


def _source_records(rng, p, has, created, source, days, email_num, mobile) -> _Source:
    n = p.rows
    who = np.flatnonzero(has)
    c = created[who]
    noise = IDENTITY_NOISE[source]
    dup_t = c + 30 + rng.random(len(who)) * (days - c - 30)
    dup = (rng.random(len(who)) < noise.duplicate) & (dup_t < days) & (days - c > 30)
    all_who = np.concatenate([who, who[dup]])
    role = np.concatenate([np.zeros(len(who), np.int8), np.ones(dup.sum(), np.int8)])
    when = np.concatenate([c, dup_t[dup]])
    order = np.lexsort((role, all_who))
    all_who, role, when = all_who[order], role[order], when[order]
    rec = make_records(rng, p, all_who, role, when, source, noise, email_num, mobile)
    primary = np.full(n, -1, np.int64)
    duplicate = np.full(n, -1, np.int64)
    dup_created = np.full(n, np.inf)
    pos = np.arange(len(all_who))
    primary[all_who[role == 0]] = pos[role == 0]
    duplicate[all_who[role == 1]] = pos[role == 1]
    dup_created[all_who[role == 1]] = when[role == 1]
    return _Source(rec, primary, duplicate, dup_created)


def _generate_chunk(
    rng, first, behaviour, customers, cal, cat, camps, files, truth, totals: _Totals
) -> None:
    days = float(cal.days)
    p = make_persons(rng, first, behaviour, cal.as_of)
    n = p.rows
    gid = p["gid"]
    email_num = email_numbers(gid, customers)
    mobile = mobile_numbers(gid)

    # Orders of people, their after-sales and the moment of truth.
    o = make_orders(rng, p, cal)
    make_aftersales(rng, o, days)
    o = o.take(apply_moment_of_truth(rng, o, p))
    for key, value in repurchase_counts(o, days).items():
        totals.add(f"mot_{key}", value)
    n_person_orders = o.rows
    anon = make_anonymous_orders(rng, int(np.sum(o["channel"] == STORE)), cal)
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
    person = orders["person"]
    is_person = person >= 0
    surveys = make_surveys(rng, orders, days)

    # Which sources know each person, and since when.
    ch = orders["channel"]
    in_store = is_person & ((ch == STORE) | (ch == PHONE))
    online = is_person & ((ch == WEB) | (ch == APP))
    first_store = _first_time(n, person, orders["t"], in_store)
    first_online = _first_time(n, person, orders["t"], online)
    first_app = _first_time(n, person, orders["t"], is_person & (ch == APP))
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

    store_src = _source_records(
        rng, p, np.isfinite(first_store), first_store, "store", days, email_num, mobile
    )
    web_src = _source_records(rng, p, has_web, web_created, "web", days, email_num, mobile)
    app_src = _source_records(rng, p, has_app, app_created, "app", days, email_num, mobile)
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
    mail_src = _source_records(
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
        _first_time(n, person, orders["opened_t"], orders["ticket"] & is_person),
        _first_time(n, person[surveys["order"]], surveys["t"], np.ones(surveys.rows, bool)),
    )
    svc_src = _source_records(
        rng, p, np.isfinite(first_service), first_service, "service", days, email_num, mobile
    )
    svc_src.records["source_id"] = formats.integers(
        id_numbers(p["gid"][svc_src.records["person"]], customers, 707, 8)
    )

    ctx = _Context(cal, cat, p, orders, lines, order_id, customer_id, totals, files)
    _write_store(rng, ctx, store_src, store_cons, is_store_order)
    _write_web(rng, ctx, web_src, web_cons, online, web_created, research)
    _write_app(rng, ctx, app_src, app_cons, app_created, web_src, account)
    _write_emailing(rng, ctx, mail_src, subs, camps)
    _write_service(rng, ctx, svc_src, ticket_rows, surveys, is_store_order)
    for src in (store_src, web_src, app_src, mail_src, svc_src):
        totals.records += src.records.rows
    totals.consents += store_cons.rows + web_cons.rows + app_cons.rows
    totals.orders += orders.rows
    totals.lines += lines.rows

    _write_truth(
        ctx,
        truth,
        n_person_orders,
        beh,
        is_store_order,
        subs,
        (
            ("store", store_src),
            ("web", web_src),
            ("app", app_src),
            ("emailing", mail_src),
            ("service", svc_src),
        ),
    )


@dataclass
class _Context:
    cal: Calendar
    cat: Catalogue
    p: Columns
    orders: Columns
    lines: Columns
    order_id: pa.Array
    customer_id: pa.Array
    totals: _Totals
    files: dict[str, NativeFile]

    def ts(self, t: np.ndarray, fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> pa.Array:
        return formats.timestamps(t, self.cal.start, fmt)


# -- store --------------------------------------------------------------------------------
def _write_store(rng, ctx: _Context, src: _Source, cons: Columns, is_store_order) -> None:
    r = src.records
    files = ctx.files
    civ = pa.array(np.array(["MME", "M", ""])[r["gender"]])
    thirty = (ctx.cal.as_of - date(1970, 1, 1)).days - 30 * 365
    young = (r["gender"] == 0) & (ctx.p["birth"][r["person"]] > thirty)
    civ = pc.if_else(pa.array(young & (rng.random(r.rows) < 0.1)), "MLLE", civ)
    files["store_customers"].write_csv(
        {
            "ID_CLIENT": r["source_id"],
            "NUM_CARTE": r["loyalty_id"],
            "CIVILITE": civ,
            "NOM": r["last_name"],
            "PRENOM": r["first_name"],
            "DATE_NAISSANCE": formats.dates(r["birth"], STORE_DATE),
            "EMAIL": r["email"],
            "TELEPHONE": r["phone"],
            "ADRESSE": r["address_line1"],
            "ADRESSE2": r["address_line2"],
            "CODE_POSTAL": r["postal_code"],
            "VILLE": r["city"],
            "DATE_CREATION": ctx.ts(r["created"], STORE_DATE),
            "MAG_RATTACHEMENT": pa.array([s.code for s in STORES]).take(
                pa.array(ctx.p["store"][r["person"]].astype(np.int64))
            ),
        }
    )

    o = ctx.orders
    idx = np.flatnonzero(is_store_order)
    idx = idx[np.argsort(o["t"][idx], kind="stable")]
    store_codes = pa.array([s.code for s in STORES])
    tickets = {
        "NUM_TICKET": ctx.order_id.take(pa.array(idx)),
        "ID_CLIENT": ctx.customer_id.take(pa.array(idx)),
        "DATE_HEURE": ctx.ts(o["t"][idx], STORE_DATETIME),
        "CODE_MAG": store_codes.take(pa.array(o["store"][idx].astype(np.int64))),
        "CANAL": pa.array(np.where(o["channel"][idx] == PHONE, CANAL["phone"], CANAL["store"])),
        "MONTANT_TTC": formats.money(o["total_cents"][idx], ","),
        "REMISE": formats.money(o["discount_cents"][idx], ","),
        "DEVISE": pa.array(np.full(len(idx), "EUR")),
        "STATUT": pa.array(np.array(STATUT)[o["status"][idx]]),
    }
    _write_with_bad_rows(rng, ctx, files["store_orders"], tickets, "tickets")

    lines = ctx.lines
    rank = np.full(o.rows, -1, np.int64)
    rank[idx] = np.arange(len(idx))
    li = np.flatnonzero(is_store_order[lines["order"]])
    li = li[np.lexsort((lines["line_no"][li], rank[lines["order"][li]]))]
    rayon = pa.array([c.rayon for c in CATEGORIES])
    table = {
        "NUM_TICKET": ctx.order_id.take(pa.array(lines["order"][li])),
        "NUM_LIGNE": formats.integers(lines["line_no"][li]),
        "CODE_ARTICLE": ctx.cat.sku.take(pa.array(lines["product"][li])),
        "RAYON": rayon.take(pa.array(lines["category"][li].astype(np.int64))),
        "QTE": formats.integers(lines["quantity"][li]),
        "PRIX_UNIT": formats.money(lines["unit_cents"][li], ","),
        "MONTANT": formats.money(lines["amount_cents"][li], ","),
    }
    _write_with_bad_rows(
        rng,
        ctx,
        files["store_lines"],
        table,
        "lines",
        last_line=np.r_[lines["order"][li][1:] != lines["order"][li][:-1], True],
    )

    channel = pa.array(np.array(["EMAIL", "SMS", "PUSH", "COURRIER"])[cons["channel"]])
    files["store_consents"].write_csv(
        {
            "ID_CLIENT": r["source_id"].take(pa.array(cons["record"])),
            "CANAL_CONTACT": channel,
            "OPTIN": pa.array(np.where(cons["granted"], "O", "N")),
            "DATE_MAJ": ctx.ts(cons["t"], STORE_DATE),
        }
    )


def _write_with_bad_rows(
    rng,
    ctx: _Context,
    out: NativeFile,
    table: dict[str, pa.Array],
    what: str,
    last_line: np.ndarray | None = None,
) -> None:
    """Write rows with a few planted bad ones inserted, and record where they are."""
    n = len(next(iter(table.values())))
    reasons = BAD_ROWS.ticket_reasons if what == "tickets" else BAD_ROWS.line_reasons
    rate = BAD_ROWS.rate if what == "tickets" else BAD_ROWS.rate / 2
    m = int(round(rate * n))
    if out.rows == 0 and n:
        m = max(m, len(reasons))  # every kind of bad row shows at least once
    if not n or not m:
        out.write_csv(table)
        return
    if what == "tickets":
        src = rng.integers(0, n, m)
    else:
        src = np.flatnonzero(last_line)[rng.integers(0, int(last_line.sum()), m)]
        src = np.unique(src)  # one extra line per ticket keeps (ticket, line) unique
        m = len(src)
    bad = {k: v.take(pa.array(src)) for k, v in table.items()}
    records = []
    kinds = np.arange(m) % len(reasons)
    if what == "tickets":
        fresh = formats.integers(3_000_000_000 + ctx.totals.next_ids("bad_ticket", m))
        bad["NUM_TICKET"] = fresh
        year = np.array([s[6:10] for s in bad["DATE_HEURE"].to_pylist()])
        edits = {
            0: ("MONTANT_TTC", "total_amount", lambda i: "-" + bad["MONTANT_TTC"][i].as_py()),
            1: ("DATE_HEURE", "ordered_at", lambda i: f"31/02/{year[i]} 10:15"),
            2: ("CANAL", "channel", lambda i: "KIOSQUE"),
            3: ("NUM_TICKET", "order_id", lambda i: ""),
        }
    else:
        line_no = np.array([int(x) + 1 for x in bad["NUM_LIGNE"].to_pylist()])
        bad["NUM_LIGNE"] = formats.integers(line_no)
        edits = {
            0: ("QTE", "quantity", lambda i: "-" + bad["QTE"][i].as_py()),
            1: ("CODE_ARTICLE", "sku", lambda i: ""),
        }
    values = {k: v.to_pylist() for k, v in bad.items()}
    for i in range(m):  # a handful of rows: 0.1% of the file
        column, canonical, edit = edits[int(kinds[i])]
        values[column][i] = edit(i)
        records.append(
            {
                "column": column,
                "field": canonical,
                "reason": reasons[int(kinds[i])],
                "value": values[column][i],
                "order_id": values["NUM_TICKET"][i],
            }
        )
    bad = {k: pa.array(v, pa.string()) for k, v in values.items()}
    position = np.sort(rng.choice(n + m, m, replace=False))
    is_bad = np.zeros(n + m, bool)
    is_bad[position] = True
    source = np.empty(n + m, np.int64)
    source[~is_bad] = np.arange(n)
    source[is_bad] = n + np.arange(m)
    merged = {k: pa.concat_arrays([table[k], bad[k]]).take(pa.array(source)) for k in table}
    first = out.rows + 2
    out.write_csv(merged)
    for rec, pos in zip(records, position, strict=True):
        ctx.totals.bad_rows.append(
            {
                "file": str(out.path.relative_to(out.path.parent.parent)),
                "source": out.source,
                "kind": out.kind,
                "line": int(first + pos),
                **rec,
            }
        )


# -- web ----------------------------------------------------------------------------------
def _write_web(
    rng, ctx: _Context, src: _Source, cons: Columns, online, web_created, research
) -> None:
    r = src.records
    files = ctx.files
    title = np.array(["Mrs", "Mr", "Mx"])[r["gender"]]
    title = np.where((r["gender"] == 0) & (rng.random(r.rows) < 0.2), "Ms", title)
    files["web_customers"].write_csv(
        {
            "account_id": r["source_id"],
            "title": pa.array(title),
            "firstname": r["first_name"],
            "lastname": r["last_name"],
            "mail": r["email"],
            "mobile": r["phone"],
            "dob": formats.dates(r["birth"]),
            "street": r["address_line1"],
            "street2": r["address_line2"],
            "zip": r["postal_code"],
            "town": r["city"],
            "country": pa.array(np.full(r.rows, "FR")),
            "signup_date": ctx.ts(r["created"], "%Y-%m-%d %H:%M:%S"),
        }
    )

    o = ctx.orders
    idx = np.flatnonzero(online)
    idx = idx[np.argsort(o["t"][idx], kind="stable")]
    q = formats.quoted
    store_codes = pa.array([s.code for s in STORES])
    pickup = _take(store_codes, np.where(o["pickup"][idx], o["store"][idx], -1))
    objects = formats.json_objects(
        [
            ("id", q(ctx.order_id.take(pa.array(idx)))),
            ("account", q(ctx.customer_id.take(pa.array(idx)))),
            ("created", q(ctx.ts(o["t"][idx]))),
            ("device", q(pa.array(np.where(o["channel"][idx] == APP, "app", "web")))),
            ("grand_total", formats.money(o["total_cents"][idx])),
            ("discount", formats.money(o["discount_cents"][idx])),
            ("currency", '"EUR"'),
            ("state", q(pa.array(np.array(WEB_STATES)[o["status"][idx]]))),
            ("pickup_store", q(pickup)),
            ("items", formats.integers(o["lines"][idx])),
        ]
    )
    files["web_orders"].write_jsonl(objects)

    lines = ctx.lines
    rank = np.full(o.rows, -1, np.int64)
    rank[idx] = np.arange(len(idx))
    li = np.flatnonzero(online[lines["order"]])
    li = li[np.lexsort((lines["line_no"][li], rank[lines["order"][li]]))]
    files["web_lines"].write_csv(
        {
            "order_id": ctx.order_id.take(pa.array(lines["order"][li])),
            "position": formats.integers(lines["line_no"][li]),
            "product_sku": ctx.cat.sku.take(pa.array(lines["product"][li])),
            "qty_ordered": formats.integers(lines["quantity"][li]),
            "price": formats.money(lines["unit_cents"][li]),
            "row_total": formats.money(lines["amount_cents"][li]),
        }
    )

    files["web_consents"].write_csv(
        {
            "account_id": r["source_id"].take(pa.array(cons["record"])),
            "topic": pa.array(
                np.where(
                    cons["channel"] == CONSENT_CHANNELS.index("email"), "newsletter", "sms_offers"
                )
            ),
            "subscribed": pa.array(np.where(cons["granted"], "yes", "no")),
            "updated_at": ctx.ts(cons["t"]),
        }
    )

    # Browsing: the sessions behind the orders, research before store purchases, prospects.
    users = src.ids(src.primary)
    order_users = ctx.customer_id
    sessions = Columns.concat(
        [
            funnel_sessions(rng, o, lines, WEB, FUNNELS["web"], web_created),
            research_sessions(rng, o, lines, research, np.nan_to_num(web_created, nan=np.inf)),
            prospect_sessions(
                rng,
                int(rng.poisson(PROSPECT_SESSIONS_PER_ORDER * len(idx))),
                float(ctx.cal.days),
                ctx.cat,
            ),
        ]
    )
    _write_sessions(rng, ctx, sessions, "web", users, order_users, files["web_events"])

    # Delivery notifications of the web shop's order system.
    d = np.flatnonzero(o["delivered"] & (o["person"] >= 0))
    d = d[np.argsort(o["delivered_t"][d], kind="stable")]
    props = formats.json_objects(
        [
            ("order_id", q(ctx.order_id.take(pa.array(d)))),
            ("promised_days", formats.integers(o["promised"][d])),
            ("actual_days", formats.integers(o["actual"][d])),
            ("late", formats.booleans(o["late"][d])),
            ("carrier", q(pa.array(np.array(CARRIERS)[d % len(CARRIERS)]))),
        ]
    )
    nulls = pa.nulls(len(d), pa.string())
    ev = Columns(
        event_id=hex_ids(ctx.totals.next_ids("web_event", len(d)), 21),
        timestamp=ctx.ts(o["delivered_t"][d]),
        event=pa.array(np.full(len(d), "order_delivered")),
        user_id=ctx.customer_id.take(pa.array(d)),
        anonymous_id=nulls,
        session_id=nulls,
        url=nulls,
        sku=nulls,
        properties=props,
    )
    files["web_deliveries"].write_jsonl(segment_objects(ev, "server"))
    ctx.totals.events += len(d)


def _write_sessions(
    rng,
    ctx: _Context,
    sessions: Columns,
    channel: str,
    users: pa.Array,
    order_users: pa.Array,
    out: NativeFile,
) -> None:
    ev = session_events(rng, sessions)
    ev = ev.take(np.argsort(ev["t"], kind="stable"))
    p = ctx.p
    person = sessions["person"]
    device_key = np.where(person >= 0, p["gid"][np.maximum(person, 0)] * 4 + sessions["device"], 0)
    prospects = person < 0
    prospect_key = ctx.totals.next_ids("prospect", int(prospects.sum()))
    cookies = hex_ids(device_key, 77)
    cookies = pc.if_else(
        pa.array(prospects), _scatter(hex_ids(prospect_key, 78), prospects), cookies
    )
    sess_ids = hex_ids(ctx.totals.next_ids(f"{channel}_session", sessions.rows), 31)
    ev_ids = hex_ids(
        ctx.totals.next_ids(f"{channel}_event", ev.rows), 21 if channel == "web" else 22
    )
    text = render_events(
        ev,
        sessions,
        channel,
        users,
        order_users,
        ctx.order_id,
        ctx.orders["total_cents"],
        cookies,
        sess_ids,
        ev_ids,
        ctx.cat,
        ctx.cal.start,
    )
    out.write_jsonl(segment_objects(text, "browser" if channel == "web" else "mobile"))
    ctx.totals.events += ev.rows
    stage = sessions["stage"]
    carted = (stage >= CART) & (stage != LOYALTY_CARD)
    ctx.totals.add(f"funnel_{channel}_cart_sessions", carted.sum())
    ctx.totals.add(f"funnel_{channel}_purchase_sessions", (stage == BUY).sum())
    ctx.totals.add(
        f"funnel_{channel}_checkout_sessions", ((stage >= CHECKOUT) & (stage != LOYALTY_CARD)).sum()
    )


def _scatter(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """A full-length array with ``values`` at the true positions of ``mask``."""
    idx = np.cumsum(mask) - 1
    return (
        _take(values, np.where(mask, idx, -1)) if len(values) else pa.nulls(len(mask), pa.string())
    )


# -- app ----------------------------------------------------------------------------------
def _write_app(
    rng, ctx: _Context, src: _Source, cons: Columns, app_created, web_src: _Source, account
) -> None:
    r = src.records
    files = ctx.files
    q = formats.quoted
    os_name = np.where(rng.random(r.rows) < 0.55, "ios", "android")
    version = np.array(["4.2.0", "4.3.1", "5.0.2"])[rng.integers(0, 3, r.rows)]
    files["app_customers"].write_jsonl(
        formats.json_objects(
            [
                ("uid", q(r["source_id"])),
                ("email", q(r["email"])),
                ("phone_number", q(r["phone"])),
                ("given_name", q(r["first_name"])),
                ("family_name", q(r["last_name"])),
                ("birthdate", q(formats.dates(r["birth"]))),
                ("postcode", q(r["postal_code"])),
                ("registered_at", q(ctx.ts(r["created"]))),
                ("os", q(pa.array(os_name))),
                ("app_version", q(pa.array(version))),
            ]
        )
    )
    files["app_consents"].write_jsonl(
        formats.json_objects(
            [
                ("uid", q(r["source_id"].take(pa.array(cons["record"])))),
                ("push_enabled", formats.booleans(cons["granted"])),
                ("changed_at", q(ctx.ts(cons["t"]))),
            ]
        )
    )
    o = ctx.orders
    users = src.ids(src.primary)
    order_users = _take(users, np.where(o["person"] >= 0, o["person"], -1))
    sessions = Columns.concat(
        [
            funnel_sessions(rng, o, ctx.lines, APP, FUNNELS["app"], app_created),
            loyalty_card_sessions(rng, o, app_created),
        ]
    )
    _write_sessions(rng, ctx, sessions, "app", users, order_users, files["app_events"])


# -- e-mail platform ----------------------------------------------------------------------
def _write_emailing(rng, ctx: _Context, src: _Source, subs: Columns, camps: Columns) -> None:
    r = src.records
    files = ctx.files
    files["emailing_customers"].write_csv(
        {
            "Email Address": r["email"],
            "First Name": r["first_name"],
            "Last Name": r["last_name"],
            "MEMBER_RATING": formats.integers(rng.integers(1, 6, r.rows)),
            "OPTIN_TIME": ctx.ts(r["created"], "%Y-%m-%d %H:%M:%S"),
            "LEID": r["source_id"],
        }
    )
    festive = np.array([b == "festive" for b in BEHAVIOUR_NAMES])
    contacts = Columns(
        subscribed=subs["subscribed"][r["person"]],
        unsubscribed=subs["unsubscribed"][r["person"]],
        festive=festive[ctx.p["behaviour"][r["person"]]],
    )
    act = email_activity(rng, contacts, camps, float(ctx.cal.days))
    q = formats.quoted
    camp_id = pa.array(camps["campaign_id"]).take(pa.array(act["campaign"]))
    campaign = formats.json_objects(
        [
            ("id", q(camp_id)),
            ("name", q(pa.array(camps["name"]).take(pa.array(act["campaign"])))),
        ]
    )
    url = formats.join(f"https://{WEB_DOMAIN}/?utm_campaign=", camp_id)
    url = pc.if_else(pa.array(act["action"] == 2), url, pa.nulls(act.rows, pa.string()))
    files["emailing_events"].write_jsonl(
        formats.json_objects(
            [
                ("id", q(hex_ids(ctx.totals.next_ids("email_event", act.rows), 41))),
                ("contact_id", q(r["source_id"].take(pa.array(act["contact"])))),
                ("action", q(pa.array(np.array(ACTIONS)[act["action"]]))),
                ("timestamp", q(ctx.ts(act["t"]))),
                ("campaign", campaign),
                ("url", q(url)),
            ]
        )
    )
    ctx.totals.events += act.rows


# -- customer service ---------------------------------------------------------------------
def _write_service(
    rng, ctx: _Context, src: _Source, tickets: np.ndarray, surveys: Columns, is_store_order
) -> None:
    r = src.records
    files = ctx.files
    files["service_customers"].write_csv(
        {
            "requester_id": r["source_id"],
            "first_name": r["first_name"],
            "last_name": r["last_name"],
            "email": r["email"],
            "phone": r["phone"],
            "created_at": ctx.ts(r["created"]),
        }
    )
    o = ctx.orders
    q = formats.quoted
    ticket_no = ctx.totals.next_ids("support_ticket", len(tickets))
    ticket_id = formats.join("TCK-", formats.integers(100_000 + ticket_no))
    order_src = pa.array(np.where(is_store_order[tickets], "store", "web"))
    requester = src.ids(src.primary[o["person"][tickets]])
    opened = formats.json_objects(
        [
            ("ticket_id", q(ticket_id)),
            ("topic", q(pa.array(np.array(TICKET_TOPICS)[o["topic"][tickets]]))),
            ("order_id", q(ctx.order_id.take(pa.array(tickets)))),
            ("order_source", q(order_src)),
        ]
    )
    hours = np.round((o["closed_t"][tickets] - o["opened_t"][tickets]) * 24, 1)
    closed = formats.json_objects(
        [
            ("ticket_id", q(ticket_id)),
            ("resolved", formats.booleans(o["resolved"][tickets])),
            ("hours", pc.cast(pa.array(hours), pa.string())),
        ]
    )
    via = pa.array(np.array(TICKET_VIA)[o["via"][tickets]])
    sv = surveys["order"]
    answer = formats.json_objects(
        [
            ("survey", '"post_delivery"'),
            ("order_id", q(ctx.order_id.take(pa.array(sv)))),
            ("score", formats.integers(surveys["score"])),
        ]
    )
    k, m = len(tickets), surveys.rows
    ev = Columns(
        type=pa.concat_arrays(
            [
                pa.array(np.full(k, "ticket_opened")),
                pa.array(np.full(k, "ticket_closed")),
                pa.array(np.full(m, "survey_response")),
            ]
        ),
        requester=pa.concat_arrays([requester, requester, src.ids(src.primary[o["person"][sv]])]),
        t=np.concatenate([o["opened_t"][tickets], o["closed_t"][tickets], surveys["t"]]),
        via=pa.concat_arrays([via, via, pa.array(np.full(m, "email"))]),
        details=pa.concat_arrays([opened, closed, answer]),
    )
    ev = ev.take(np.argsort(ev["t"], kind="stable"))
    files["service_events"].write_jsonl(
        formats.json_objects(
            [
                ("event_id", q(hex_ids(ctx.totals.next_ids("service_event", ev.rows), 51))),
                ("type", q(ev["type"])),
                ("requester_id", q(ev["requester"])),
                ("created_at", q(ctx.ts(ev["t"]))),
                ("via", q(ev["via"])),
                ("details", ev["details"]),
            ]
        )
    )
    ctx.totals.events += ev.rows


# -- truth --------------------------------------------------------------------------------
def _ts_array(t: np.ndarray, origin: date) -> pa.Array:
    base = (origin - date(1970, 1, 1)).days * 86400
    t = np.asarray(t, np.float64)
    ok = np.isfinite(t)
    sec = np.rint(np.where(ok, t, 0) * 86400).astype(np.int64) + base
    return pa.array(sec.astype("datetime64[s]"), mask=~ok)


def _write_truth(
    ctx: _Context,
    truth: TruthWriter,
    n_person_orders: int,
    beh: np.ndarray,
    is_store_order: np.ndarray,
    subs: Columns,
    sources,
) -> None:
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
        },
    )

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
    opid = _take(pid, np.where(is_person, o["person"], -1))
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
            "store_id": _take(pa.array([s.code for s in STORES]), o["store"].astype(np.int64)),
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


def _ratio(s: dict[str, float], num: str, den: str) -> float | None:
    d = s.get(den, 0.0)
    return round(s.get(num, 0.0) / d, 4) if d else None


def _planted(
    seed: int, customers: int, cal: Calendar, totals: _Totals, files: dict[str, NativeFile]
) -> dict[str, Any]:
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
