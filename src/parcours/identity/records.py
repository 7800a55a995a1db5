"""Customer records made comparable: one id per record and normalised matching columns.

Normalisation happens in the engine and is the same on DuckDB and Spark: lower case, accents
folded with one translation table, anything but letters (or digits, for addresses) removed.
"""

from __future__ import annotations

import ibis

from parcours.schema import SOURCE

RID = "rid"  # record id: ``source:source_id``, unique across sources
ACCENTED = "àâäáãåçéèêëíìîïñóòôöõúùûüýÿ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyy"


def record_id(source: ibis.StringValue, source_id: ibis.StringValue) -> ibis.StringValue:
    return source.concat(":", source_id)


def folded(text: ibis.StringValue, keep: str = "a-z") -> ibis.StringValue:
    """Lower case, accents folded, only ``keep`` characters left; empty becomes null."""
    cleaned = text.lower().translate(ACCENTED, PLAIN).re_replace(f"[^{keep}]", "")
    return cleaned.nullif("")


def matching_records(customers: ibis.Table) -> ibis.Table:
    """Every customer record with its id and the normalised columns matching compares."""
    c = customers
    email = c.email.nullif("")
    return c.select(
        **{RID: record_id(c[SOURCE], c.source_id)},
        source=c[SOURCE],
        source_id=c.source_id,
        first_name=folded(c.first_name),
        last_name=folded(c.last_name),
        full_name=folded(c.first_name).concat(" ", folded(c.last_name)),
        birth_date=c.birth_date.cast("string"),
        email=email,
        email_local=folded(email.split("@")[0], keep="a-z0-9"),
        phone=c.phone.nullif(""),
        loyalty_id=c.loyalty_id,
        postal_code=c.postal_code.re_replace(r"\s", "").nullif(""),
        city=folded(c.city),
        address=folded(c.address_line1, keep="a-z0-9"),
        created_at=c.created_at,
        ingested_at=c.ingested_at,
    )
