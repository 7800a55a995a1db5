"""Consents per contact channel.

An opt-in or refusal when a record is created, and some later opt-outs. The e-mail
subscription of each person (who the e-mail platform writes to) follows from them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parcours.demo.behaviours import CONSENTS
from parcours.demo.columns import Columns

CONSENT_CHANNELS = ("email", "sms", "push", "post")


def make_consents(rng: np.random.Generator, records: Columns, source: str, days: float) -> Columns:
    """The consent rows of one source's main records.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    records : Columns
        The source's records (``role``, ``created``, ``email``, ``email_kind``, ``phone``).
    source : str
        ``store``, ``web`` or ``app``.
    days : float
        Length of the history.

    Returns
    -------
    Columns
        ``record`` (position in ``records``), ``channel`` (into ``CONSENT_CHANNELS``),
        ``granted``, ``t``; sorted by record and time. ``opt_in`` marks the first row of a
        granted consent and ``opted_out_t`` its opt-out time (NaN when none).
    """
    parts = []
    main = records["role"] == 0
    for name, rate in CONSENTS.opt_in[source].items():
        if name == "email":
            ok = (
                main
                & pc.is_valid(records["email"]).to_numpy(zero_copy_only=False)
                & (records["email_kind"] != 2)
            )
        elif name == "sms":
            ok = main & pc.is_valid(records["phone"]).to_numpy(zero_copy_only=False)
        else:
            ok = main
        rec = np.flatnonzero(ok)
        m = len(rec)
        created = records["created"][rec]
        granted = rng.random(m) < rate
        out_t = np.floor((created + 1 + rng.random(m) * (days - created)) * 86400) / 86400
        out = granted & (rng.random(m) < CONSENTS.opt_out_prob[name]) & (out_t < days)
        code = CONSENT_CHANNELS.index(name)
        parts.append(
            Columns(
                record=rec,
                channel=np.full(m, code, np.int8),
                granted=granted,
                t=created,
                opt_in=granted,
                opted_out_t=np.where(out, out_t, np.nan),
            )
        )
        parts.append(
            Columns(
                record=rec[out],
                channel=np.full(out.sum(), code, np.int8),
                granted=np.zeros(out.sum(), bool),
                t=out_t[out],
                opt_in=np.zeros(out.sum(), bool),
                opted_out_t=np.full(out.sum(), np.nan),
            )
        )
    c = Columns.concat(parts)
    return c.take(np.lexsort((c["t"], c["record"])))


def email_subscriptions(sources: list[tuple[Columns, Columns]], persons: int) -> Columns:
    """Each person's e-mail subscription: their earliest e-mail opt-in and its opt-out.

    Parameters
    ----------
    sources : list of (records, consents)
        Records and consent rows of the sources that collect e-mail opt-ins.
    persons : int
        Number of people.

    Returns
    -------
    Columns
        One row per person: ``subscribed`` and ``unsubscribed`` (NaN when never), and
        ``email`` (as the record held it, trimmed and lower-cased).
    """
    sub = np.full(persons, np.inf)
    unsub = np.full(persons, np.nan)
    email = pa.nulls(persons, pa.string())
    code = CONSENT_CHANNELS.index("email")
    for records, consents in sources:
        rows = np.flatnonzero(consents["opt_in"] & (consents["channel"] == code))
        rec = consents["record"][rows]
        person = records["person"][rec]
        t = consents["t"][rows]
        earlier = t < sub[person]
        # One opt-in per person and source (main records only), so no write conflicts.
        upd = person[earlier]
        sub[upd] = t[earlier]
        unsub[upd] = consents["opted_out_t"][rows][earlier]
        positions = np.full(persons, -1)
        positions[upd] = rec[earlier]
        mask = positions >= 0
        picked = records["email"].take(pa.array(np.maximum(positions, 0)))
        clean = pc.utf8_lower(pc.utf8_trim_whitespace(picked))
        email = pc.if_else(pa.array(mask), clean, email)
    return Columns(
        subscribed=np.where(np.isfinite(sub), sub, np.nan), unsubscribed=unsub, email=email
    )
