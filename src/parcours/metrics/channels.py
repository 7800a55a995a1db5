"""Channels: the recruitment chronology, first channel then the next channel adopted."""

from __future__ import annotations

import ibis

from parcours.schema import CUSTOMER_KEY

NONE = "none"


def recruitment_paths(bought: ibis.Table, profile: ibis.Table) -> ibis.Table:
    """First channel -> next channel, with counts and the median delay of the switch.

    Parameters
    ----------
    bought : ibis.Table
        The purchases (``facts.purchases``).
    profile : ibis.Table
        ``customer_profile`` (``first_channel``, ``first_order_at``).

    Returns
    -------
    ibis.Table
        The ``kpi_recruitment`` rows. ``next_channel`` is the channel of the first purchase on
        another channel than the first one, ``none`` when the customer never used another.
    """
    first = profile.filter(profile.orders > 0).select(
        CUSTOMER_KEY, "first_channel", "first_order_at"
    )
    j = bought.join(first, CUSTOMER_KEY)
    other = j.filter(j.channel != j.first_channel)
    ranked = other.mutate(
        _rank=ibis.row_number().over(
            group_by=other[CUSTOMER_KEY], order_by=[other.ordered_at, other.order_id]
        )
    )
    switch = ranked.filter(ranked._rank == 0).select(
        CUSTOMER_KEY,
        next_channel=ranked.channel,
        days=(ranked.ordered_at.epoch_seconds() - ranked.first_order_at.epoch_seconds()).cast(
            "float64"
        )
        / 86400,
    )
    paths = first.left_join(switch, first[CUSTOMER_KEY] == switch[CUSTOMER_KEY]).select(
        first.first_channel,
        next_channel=switch.next_channel.fill_null(NONE),
        days=switch.days,
    )
    counts = paths.group_by("first_channel", "next_channel").aggregate(
        customers=paths.count(), median_days=paths.days.median()
    )
    total = counts.customers.sum().over(group_by=counts.first_channel)
    return counts.select(
        "first_channel",
        "next_channel",
        "customers",
        share=counts.customers.cast("float64") / total,
        median_days="median_days",
    )
