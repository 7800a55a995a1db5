"""The deterministic identifier graph and connected components, computed in the engine.

Two records holding the same email, phone, loyalty card or device are one person, unless the
identifier is shared: a value held by more than ``max_shared`` records identifies nobody (a
shop's default email, a call centre's phone), and within a value, two records whose first
names cannot be the same person (a couple sharing one email) are not joined by it; the
records without a first name are then left out too, since nothing says whose they are.
"""

from __future__ import annotations

import ibis

from parcours.engine import Engine
from parcours.identity.records import RID

IDENTIFIERS = ("email", "phone", "loyalty_id")
ACCOUNT = "account"  # records sharing a device or anonymous id through a login
NAME_TYPOS = 2  # edits between two spellings of one first name


def compatible_names(
    first: ibis.StringValue,
    last: ibis.StringValue,
    other_first: ibis.StringValue,
    other_last: ibis.StringValue,
) -> ibis.BooleanValue:
    """First names that may belong to one person: unknown, equal, a typo apart, or swapped.

    A typo keeps the first letter (Léa and Eva are two people, Marie and Marei one). Swapped
    means both names swapped: one record's first name equal to the other's family name is
    not enough (Thomas Frédéric and Élodie Thomas are two people).
    """
    return (
        first.isnull()
        | other_first.isnull()
        | (
            (first.substr(0, 1) == other_first.substr(0, 1))
            & (first.levenshtein(other_first) <= NAME_TYPOS)
        )
        | ((first == other_last) & (last == other_first))
    )


def identifier_edges(
    records: ibis.Table, values: ibis.Table, method: str, max_shared: int
) -> tuple[ibis.Table, ibis.Table]:
    """Edges between records sharing one value of an identifier, and the values refused.

    Parameters
    ----------
    records : ibis.Table
        Matching records (``rid``, ``first_name``, ``last_name``).
    values : ibis.Table
        ``rid`` and ``value``: which record holds which identifier value.
    method : str
        Name of the identifier, written on each edge.
    max_shared : int
        Values held by more records are not identifying.

    Returns
    -------
    tuple of ibis.Table
        Edges (``left_rid``, ``right_rid``, ``method``) and shared values (``value``,
        ``records``, ``reason``).
    """
    v = values.filter(values.value.notnull()).distinct()
    holders = v.group_by("value").aggregate(n=v[RID].nunique())
    shared = holders.filter(holders.n > max_shared)
    usable = v.semi_join(holders.filter((holders.n > 1) & (holders.n <= max_shared)), "value")
    named = usable.join(records.select(RID, "first_name", "last_name"), RID)
    a, b = named.view(), named.view()
    pairs = a.join(b, (a.value == b.value) & (a[RID] < b[RID])).select(
        value=a.value,
        left_rid=a[RID],
        right_rid=b[RID],
        ok=compatible_names(a.first_name, a.last_name, b.first_name, b.last_name),
        both_named=a.first_name.notnull() & b.first_name.notnull(),
    )
    conflicts = pairs.filter(~pairs.ok).select("value").distinct()
    in_conflict = pairs.semi_join(conflicts, "value")
    edges = pairs.anti_join(conflicts, "value").union(
        in_conflict.filter(in_conflict.ok & in_conflict.both_named)
    )
    refused = conflicts.join(holders, "value").select(
        "value", records="n", reason=ibis.literal(f"{method} shared by people with other names")
    )
    refused = refused.union(
        shared.select(
            "value", records="n", reason=ibis.literal(f"{method} held by too many records")
        )
    )
    return edges.select("left_rid", "right_rid", method=ibis.literal(method)), refused


def connected_components(
    engine: Engine, nodes: ibis.Table, edges: ibis.Table, *, name: str
) -> ibis.Table:
    """Label every node with the smallest node id of its component.

    Label propagation with a join per round, each round written to the table ``name`` so
    that the query stays flat; it stops when no label changes (rounds grow with the longest
    chain, a handful for people's records).

    Parameters
    ----------
    engine : Engine
        Where to compute.
    nodes : ibis.Table
        One column ``rid``.
    edges : ibis.Table
        ``left_rid`` and ``right_rid``.
    name : str
        Work table, left holding the result (``rid``, ``component``).
    """
    both = edges.select(a=edges.left_rid, b=edges.right_rid).union(
        edges.select(a=edges.right_rid, b=edges.left_rid)
    )
    engine.write(f"{name}_edges", both, stage="identity")
    both = engine.table(f"{name}_edges")
    engine.write(name, nodes.select(RID, component=nodes[RID]), stage="identity")
    while True:
        labels = engine.table(name)
        reached = both.join(labels, both.b == labels[RID]).select(
            rid=both.a, label=labels.component
        )
        best = reached.group_by(RID).aggregate(label=reached.label.min())
        j = labels.left_join(best, labels[RID] == best[RID])
        new_label = ibis.least(j.component, ibis.coalesce(j.label, j.component))
        changed = engine.execute((new_label != j.component).sum())
        if not changed:
            break
        engine.write(name, j.select(rid=j[RID], component=new_label), stage="identity")
    engine.drop(f"{name}_edges")
    return engine.table(name)
