"""``parcours resolve``: records -> persons, golden records and keyed facts.

Order of work: identifier graph (always recomputed: cheap, in the engine), probabilistic
matching (trained and scored in full the first time, then only pairs involving new or changed
records), the analyst's overrides, connected components, the guards (size limit, decisions
'different'), stable keys, then the tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import pyarrow as pa

from parcours.engine import Engine, ibis_schema
from parcours.errors import UserInputError
from parcours.identity import golden, graph, keyed, matching
from parcours.identity.keys import assign_keys, key_changes
from parcours.identity.overrides import Override, read_overrides
from parcours.identity.records import RID, matching_records, record_id
from parcours.schema import (
    CONSENTS,
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMERS,
    CUSTOMERS_GOLDEN,
    EVENTS,
    GOLDEN_LINEAGE,
    IDENTITY_CHANGES,
    IDENTITY_EDGES,
    IDENTITY_MAP,
    IDENTITY_REVIEW,
    ORDERS,
    SOURCE,
)
from parcours.workspace import Workspace

MODEL_FILE = "identity-model.json"
STAGE = "identity"
WORK = "identity_work"
# Strongest evidence first: it names how a record joined its person.
METHOD_STRENGTH = ("forced", "loyalty_id", "email", "phone", "account", "probabilistic")
SIZE_BINS = (1, 2, 3, 4, 5, 10)


@dataclass(frozen=True)
class ReviewItem:
    """A group of records held apart for an analyst instead of merged."""

    subject: str  # the group (its smallest record id)
    reason: str
    records: int


@dataclass
class ResolveSummary:
    records: int = 0
    persons: int = 0
    scored: str = ""  # what probabilistic matching did this run
    joined_by: dict[str, int] = field(default_factory=dict)  # records joined, per method
    cluster_sizes: list[tuple[str, int]] = field(default_factory=list)
    review: list[ReviewItem] = field(default_factory=list)  # groups too large
    match: matching.MatchReport = field(default_factory=matching.MatchReport)
    shared_identifiers: list[tuple[str, int]] = field(default_factory=list)  # reason, values
    overrides: list[str] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=dict)
    quality: list[tuple[str, int, int, int]] = field(default_factory=list)


def _edges_schema() -> pa.Schema:
    return pa.schema(
        [
            ("left_rid", pa.string()),
            ("right_rid", pa.string()),
            ("method", pa.string()),
            ("match_probability", pa.float64()),
        ]
    )


def _account_values(engine: Engine) -> ibis.Table:
    """Records tied to a device or anonymous id by a login or identify event."""
    e = engine.table(EVENTS.name)
    e = e.filter(e.customer_id.notnull() & e.anonymous_id.notnull())
    return e.select(**{RID: record_id(e[SOURCE], e.customer_id)}, value=e.anonymous_id).distinct()


def _identifier_edges(engine: Engine, records: ibis.Table, max_shared: int, summary):
    edges, refused = [], []
    for name in graph.IDENTIFIERS:
        values = records.select(RID, value=records[name])
        e, r = graph.identifier_edges(records, values, name, max_shared)
        edges.append(e)
        refused.append(r.mutate(identifier=ibis.literal(name)))
    if engine.has_table(EVENTS.name):
        values = _account_values(engine).semi_join(records, RID)
        e, r = graph.identifier_edges(records, values, graph.ACCOUNT, max_shared)
        edges.append(e)
        refused.append(r.mutate(identifier=ibis.literal(graph.ACCOUNT)))
    refused_all = refused[0].union(*refused[1:])
    engine.write(f"{WORK}_refused", refused_all, stage=STAGE)
    refused_all = engine.table(f"{WORK}_refused")
    rows = engine.to_pyarrow(refused_all.group_by("reason").aggregate(n=refused_all.count()))
    summary.shared_identifiers = [(r["reason"], r["n"]) for r in rows.to_pylist()]
    all_edges = edges[0].union(*edges[1:])
    return all_edges.mutate(match_probability=ibis.literal(1.0))


def _identifier_groups(engine: Engine, records: ibis.Table, ident: ibis.Table) -> pa.Table:
    """Each record's group by identifiers alone (``rid``, ``component``, ``size``).

    A fuzzy link between two groups joins every record of one with every record of the
    other: the threshold weighs each link by the pairs of records it makes one person.
    """
    comps = graph.connected_components(
        engine, records.select(RID), ident, name=f"{WORK}_ident_components"
    )
    sizes = comps.group_by("component").aggregate(size=comps.count())
    out = engine.to_pyarrow(comps.join(sizes, "component").select(RID, "component", "size"))
    engine.drop(f"{WORK}_ident_components")
    return out


def _fuzzy_edges(
    ws: Workspace, records: ibis.Table, new: ibis.Table | None, ident: ibis.Table, summary
) -> tuple[pa.Table, pa.Table | None]:
    """Links from matching, and every scored pair when the model was trained this run."""
    engine, cfg = ws.engine, ws.config.identity
    model = ws.dir / MODEL_FILE
    n_records = int(engine.execute(records.count()))
    if n_records < 2:
        summary.scored = "nothing to compare"
        return _edges_schema().empty_table(), None
    records = _without_shared_identifiers(engine, records)
    if new is None or not model.exists():
        pairs, summary.match, scored = matching.scored_pairs(
            engine,
            records,
            model,
            cfg.match_threshold,
            cfg.target_precision,
            groups=_identifier_groups(engine, records, ident),
        )
        summary.scored = f"model trained and {n_records:,} records compared"
    else:
        scored = None
        n_new = int(engine.execute(new.count()))
        previous = engine.table(IDENTITY_EDGES.name)
        kept = previous.filter(previous.method == "probabilistic")
        a, b = new.select(RID), new.select(RID).view()
        kept = kept.anti_join(a, kept.left_rid == a[RID]).anti_join(b, kept.right_rid == b[RID])
        kept = engine.to_pyarrow(
            kept.select(kept.left_rid, kept.right_rid, kept.match_probability)
        ).cast(pa.schema([f for f in _edges_schema() if f.name != "method"]))
        if n_new:
            fresh, summary.match, _ = matching.scored_pairs(
                engine,
                records,
                model,
                cfg.match_threshold,
                cfg.target_precision,
                new=_without_shared_identifiers(engine, new),
            )
            pairs = pa.concat_tables([kept, fresh])
        else:
            pairs = kept
        summary.scored = f"{n_new:,} new or changed records compared with the saved model"
    edges = pairs.append_column(
        "method", pa.array(["probabilistic"] * pairs.num_rows, pa.string())
    ).select(["left_rid", "right_rid", "method", "match_probability"])
    return edges, scored


def _without_shared_identifiers(engine: Engine, records: ibis.Table) -> ibis.Table:
    """Records with the emails and phones the graph refused blanked.

    Shared, they are no evidence that two records are one person (a couple's email, a shop's
    default email).
    """
    refused = engine.table(f"{WORK}_refused")
    blank = {}
    for column in ("email", "phone"):
        values = refused.filter(refused.identifier == column).value
        blank[column] = ibis.ifelse(
            records[column].isin(values), ibis.null("string"), records[column]
        )
    blank["email_local"] = ibis.ifelse(
        blank["email"].isnull(), ibis.null("string"), records.email_local
    )
    return records.mutate(**blank)


def _forced_edges(overrides: list[Override]) -> pa.Table:
    same = [o for o in overrides if o.decision == "same"]
    return pa.table(
        {
            "left_rid": [min(o.record, o.other) for o in same],
            "right_rid": [max(o.record, o.other) for o in same],
            "method": ["forced"] * len(same),
            "match_probability": [1.0] * len(same),
        },
        schema=_edges_schema(),
    )


def _split_guarded(
    engine: Engine,
    components: ibis.Table,
    edges: ibis.Table,
    overrides: list[Override],
    max_size: int,
    summary: ResolveSummary,
) -> pa.Table:
    """Re-cluster the few components an override or the size limit forbids.

    Edges are added strongest first (forced, identifiers, then by probability) unless they
    would join two records declared different; an oversized component keeps only forced and
    identifier edges. Returns ``rid`` -> ``component`` for the records concerned.
    """
    different = [(o.record, o.other) for o in overrides if o.decision == "different"]
    sizes = components.group_by("component").aggregate(n=components.count())
    big = sizes.filter(sizes.n > max_size).select("component")
    flagged = set(engine.to_pyarrow(big)["component"].to_pylist())
    if different:
        rids = sorted({r for pair in different for r in pair})
        found = engine.to_pyarrow(components.filter(components[RID].isin(rids))).to_pylist()
        where = {r[RID]: r["component"] for r in found}
        for a, b in different:
            if a in where and b in where and where[a] == where[b]:
                flagged.add(where[a])
    if not flagged:
        return pa.table(
            {RID: [], "component": []},
            schema=pa.schema([(RID, pa.string()), ("component", pa.string())]),
        )
    members = engine.to_pyarrow(components.filter(components.component.isin(sorted(flagged))))
    member_of = dict(zip(members[RID].to_pylist(), members["component"].to_pylist(), strict=True))
    size_of = {}
    for comp in member_of.values():
        size_of[comp] = size_of.get(comp, 0) + 1
    ids = sorted(member_of)
    e = engine.to_pyarrow(
        edges.filter(edges.left_rid.isin(ids) | edges.right_rid.isin(ids))
    ).to_pylist()
    strength = {m: i for i, m in enumerate(METHOD_STRENGTH)}
    e.sort(key=lambda r: (strength[r["method"]], -(r["match_probability"] or 0)))
    parent = {r: r for r in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    apart = [(a, b) for a, b in different if a in parent and b in parent]
    for edge in e:
        a, b = edge["left_rid"], edge["right_rid"]
        if a not in parent or b not in parent:
            continue
        if size_of[member_of[a]] > max_size and edge["method"] == "probabilistic":
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        if any({find(x), find(y)} == {ra, rb} for x, y in apart):
            continue
        parent[max(ra, rb)] = min(ra, rb)
    for comp, n in size_of.items():
        if n > max_size:
            summary.review.append(
                ReviewItem(
                    comp,
                    f"{n} records joined by fuzzy evidence: above identity.max_cluster_size",
                    n,
                )
            )
    for a, b in different:
        if a in parent:
            summary.overrides.append(f"kept apart: {a} and {b}")
    # Components take the smallest member id of their new group.
    groups: dict[str, str] = {}
    for r in ids:
        root = find(r)
        groups[root] = min(groups.get(root, r), r)
    return pa.table(
        {RID: ids, "component": [groups[find(r)] for r in ids]},
        schema=pa.schema([(RID, pa.string()), ("component", pa.string())]),
    )


def _customers(engine: Engine) -> ibis.Table:
    if engine.has_table(CUSTOMERS.name):
        return engine.table(CUSTOMERS.name)
    return engine.table(f"{WORK}_customers")


def _records_of_facts(engine: Engine) -> ibis.Table:
    """Without customer files, each customer id that orders or events name is one record."""
    ids = [
        engine.table(spec.name).select(SOURCE, source_id=engine.table(spec.name).customer_id)
        for spec in (ORDERS, EVENTS)
        if engine.has_table(spec.name)
    ]
    if not ids:
        raise UserInputError(
            "nothing to resolve: no customers, orders or events ingested",
            hint="parcours ingest customers FILE",
        )
    u = ids[0].union(*ids[1:]) if len(ids) > 1 else ids[0]
    u = u.filter(u.source_id.notnull()).distinct()
    return u.select(
        **{
            name: u[name] if name in (SOURCE, "source_id") else ibis.null(dtype)
            for name, dtype in ibis_schema(CUSTOMERS).items()
        }
    )


def resolve(ws: Workspace, *, full: bool = False) -> ResolveSummary:
    """Resolve every customer record to a person and write the single customer view.

    Parameters
    ----------
    ws : Workspace
        The workspace; its ``identity`` config section sets thresholds and rules.
    full : bool
        Retrain the matching model and rescore every pair instead of only new records.
    """
    engine, cfg = ws.engine, ws.config.identity
    summary = ResolveSummary()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    if not engine.has_table(CUSTOMERS.name):
        engine.write(f"{WORK}_customers", _records_of_facts(engine), stage=STAGE)
    customers = _customers(engine)
    engine.write(f"{WORK}_records", matching_records(customers), stage=STAGE)
    records = engine.table(f"{WORK}_records")
    summary.records = int(engine.execute(records.count()))

    previous = engine.table(IDENTITY_MAP.name) if engine.has_table(IDENTITY_MAP.name) else None
    new = None
    if previous is not None and not full and engine.has_table(IDENTITY_EDGES.name):
        p = previous.select(
            prev_rid=record_id(previous[SOURCE], previous.source_id), scored_at=previous.resolved_at
        )
        j = records.left_join(p, records[RID] == p.prev_rid)
        new = j.filter(j.prev_rid.isnull() | (j.ingested_at > j.scored_at)).select(
            *[j[c] for c in records.columns]
        )
        engine.write(f"{WORK}_new", new, stage=STAGE)
        new = engine.table(f"{WORK}_new")

    overrides = read_overrides(ws.dir)
    summary.overrides = [
        f"forced together: {o.record} and {o.other}" for o in overrides if o.decision == "same"
    ]
    ident = _identifier_edges(engine, records, cfg.max_shared_identifier, summary)
    fuzzy, scored = _fuzzy_edges(ws, records, new, ident, summary)
    fuzzy = engine.from_arrow(fuzzy, f"{WORK}_fuzzy_in")
    edges = (
        ident.select("left_rid", "right_rid", "method", "match_probability")
        .union(fuzzy)
        .union(engine.from_arrow(_forced_edges(overrides), f"{WORK}_forced_in"))
    )
    engine.write(f"{WORK}_edges", edges.distinct(), stage=STAGE)
    edges = engine.table(f"{WORK}_edges")

    components = graph.connected_components(
        engine, records.select(RID), edges, name=f"{WORK}_components"
    )
    fixed = _split_guarded(engine, components, edges, overrides, cfg.max_cluster_size, summary)
    if fixed.num_rows:
        f = engine.from_arrow(fixed, f"{WORK}_fixed")
        j = components.left_join(f, components[RID] == f[RID])
        engine.write(
            f"{WORK}_components2",
            j.select(rid=j[RID], component=ibis.coalesce(j.component_right, j.component)),
            stage=STAGE,
        )
        components = engine.table(f"{WORK}_components2")
    if scored is not None:
        # The run's estimates are those of the persons formed, vetoes and chains included.
        scored = engine.from_arrow(scored, f"{WORK}_scored")
        matching.person_estimates(engine, components, scored, summary.match)
        matching.save_run_report(ws.dir / MODEL_FILE, summary.match)

    generation = 0
    if engine.has_table(IDENTITY_CHANGES.name):
        generation = int(engine.execute(engine.table(IDENTITY_CHANGES.name).resolved_at.nunique()))
    prev_keys = None
    if previous is not None:
        prev_keys = previous.select(
            **{RID: record_id(previous[SOURCE], previous.source_id)},
            **{CUSTOMER_KEY: previous[CUSTOMER_KEY]},
        )
    engine.write(f"{WORK}_keys", assign_keys(components, prev_keys, generation), stage=STAGE)
    assigned = engine.table(f"{WORK}_keys")

    _write_map(engine, records, assigned, edges, previous, new, now)
    _write_changes(engine, assigned, now, summary)
    _write_review(engine, summary)
    engine.write(IDENTITY_EDGES.name, edges.select(*IDENTITY_EDGES.column_names), stage=STAGE)

    identity_map = engine.table(IDENTITY_MAP.name)
    gold, lineage = golden.golden_records(customers, identity_map, cfg)
    engine.write(CUSTOMERS_GOLDEN.name, gold, stage=STAGE)
    engine.write(GOLDEN_LINEAGE.name, lineage, stage=STAGE)
    for spec, source, build in (
        (CUSTOMER_ORDERS, ORDERS, keyed.customer_orders),
        (CUSTOMER_EVENTS, EVENTS, keyed.customer_events),
        (CUSTOMER_CONSENTS, CONSENTS, keyed.customer_consents),
    ):
        if engine.has_table(source.name):
            engine.write(spec.name, build(engine.table(source.name), identity_map), stage=STAGE)

    _summarise(engine, customers, summary)
    for name in (
        "customers",
        "refused",
        "review_in",
        "records",
        "new",
        "fuzzy_in",
        "forced_in",
        "edges",
        "components",
        "components2",
        "fixed",
        "keys",
        "scored",
    ):
        engine.drop(f"{WORK}_{name}")
    return summary


def _write_map(engine, records, assigned, edges, previous, new, now) -> None:
    strength = {m: i for i, m in enumerate(METHOD_STRENGTH)}
    ends = edges.select(rid=edges.left_rid, method=edges.method).union(
        edges.select(rid=edges.right_rid, method=edges.method)
    )
    # Only edges inside a person name how its records joined.
    k = assigned.select(RID, CUSTOMER_KEY)
    ranked = ends.mutate(s=ends.method.cases(*strength.items(), else_=99))
    best = ranked.group_by(RID).aggregate(s=ranked.s.min())
    sizes = k.group_by(CUSTOMER_KEY).aggregate(n=k.count())
    m = (
        records.select(RID, SOURCE, "source_id")
        .join(k, RID)
        .join(sizes, CUSTOMER_KEY)
        .left_join(best, RID)
    )
    method = ibis.cases(*[(m.s == i, name) for name, i in strength.items()], else_="single")
    method = ibis.ifelse(m.n == 1, "single", method)
    at = ibis.literal(now, type="timestamp(6)")
    resolved_at = at
    if previous is not None and new is not None:
        p = previous.select(ps=previous[SOURCE], pid=previous.source_id, pat=previous.resolved_at)
        m = m.left_join(p, [m[SOURCE] == p.ps, m.source_id == p.pid])
        fresh = new.select(fr=new[RID])
        m = m.left_join(fresh, m[RID] == fresh.fr)
        resolved_at = ibis.ifelse(m.fr.notnull() | m.pat.isnull(), at, m.pat)
    out = m.select(m[SOURCE], m.source_id, m[CUSTOMER_KEY], method=method, resolved_at=resolved_at)
    engine.write(IDENTITY_MAP.name, out.select(*IDENTITY_MAP.column_names), stage=STAGE)


def _write_changes(engine, assigned, now, summary) -> None:
    changes = key_changes(assigned, now)
    if engine.has_table(IDENTITY_CHANGES.name):
        changes = engine.table(IDENTITY_CHANGES.name).union(changes)
    engine.write(IDENTITY_CHANGES.name, changes.select(*IDENTITY_CHANGES.column_names), stage=STAGE)
    c = engine.table(IDENTITY_CHANGES.name)
    latest = c.filter(c.resolved_at == ibis.literal(now, type="timestamp(6)"))
    rows = engine.to_pyarrow(latest.group_by("change").aggregate(n=latest.count())).to_pylist()
    summary.changes = {r["change"]: r["n"] for r in rows}


def _write_review(engine, summary) -> None:
    """Shared identifiers refused and groups too large, for an analyst."""
    groups = pa.table(
        {
            "subject": [r.subject for r in summary.review],
            "reason": [r.reason for r in summary.review],
            "records": [r.records for r in summary.review],
        },
        schema=pa.schema(
            [("subject", pa.string()), ("reason", pa.string()), ("records", pa.int64())]
        ),
    )
    shared = engine.table(f"{WORK}_refused")
    review = shared.select(subject=shared.value, reason=shared.reason, records=shared.records)
    review = review.union(engine.from_arrow(groups, f"{WORK}_review_in"))
    engine.write(IDENTITY_REVIEW.name, review.select(*IDENTITY_REVIEW.column_names), stage=STAGE)


def _summarise(engine: Engine, customers: ibis.Table, summary: ResolveSummary) -> None:
    m = engine.table(IDENTITY_MAP.name)
    summary.persons = int(engine.execute(m[CUSTOMER_KEY].nunique()))
    rows = engine.to_pyarrow(m.group_by("method").aggregate(n=m.count())).to_pylist()
    summary.joined_by = {r["method"]: r["n"] for r in sorted(rows, key=lambda r: -r["n"])}
    sizes = m.group_by(CUSTOMER_KEY).aggregate(n=m.count())
    hist = engine.to_pyarrow(sizes.group_by("n").aggregate(persons=sizes.count())).to_pylist()
    bins: dict[str, int] = {}
    for r in hist:
        label = next((str(b) for b in SIZE_BINS[:-1] if r["n"] == b), None) or (
            f"{SIZE_BINS[-2] + 1}-{SIZE_BINS[-1]}"
            if r["n"] <= SIZE_BINS[-1]
            else f">{SIZE_BINS[-1]}"
        )
        bins[label] = bins.get(label, 0) + r["persons"]
    summary.cluster_sizes = sorted(bins.items(), key=lambda kv: (len(kv[0]), kv[0]))
    c = customers
    q = c.group_by(SOURCE).aggregate(
        records=c.count(),
        no_identifier=(c.email.isnull() & c.phone.isnull() & c.loyalty_id.isnull()).sum(),
        no_name=(c.first_name.isnull() | c.last_name.isnull()).sum(),
    )
    summary.quality = [
        (r[SOURCE], r["records"], r["no_identifier"], r["no_name"])
        for r in engine.to_pyarrow(q.order_by(SOURCE)).to_pylist()
    ]
