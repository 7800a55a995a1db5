"""Seasonal (festive) buyers: spend concentrated in the festive windows of the calendar.

The windows come from ``profile.festive_windows``; the profile measures each customer's
``festive_share`` and ``festive_orders`` (``metrics.seasons``), and the rule is here.
"""

from __future__ import annotations

import ibis

from parcours.config import LifecycleConfig


def seasonal_buyers(profile: ibis.Table, rules: LifecycleConfig) -> ibis.BooleanValue:
    """True for a customer whose spend is concentrated in the festive windows.

    Parameters
    ----------
    profile : ibis.Table
        ``customer_profile``.
    rules : LifecycleConfig
        ``seasonal_min_share`` and ``seasonal_min_orders``.

    Returns
    -------
    ibis.BooleanValue
        At least ``seasonal_min_share`` of the spend, and ``seasonal_min_orders`` purchases,
        in festive windows.
    """
    return (profile.festive_share >= rules.seasonal_min_share) & (
        profile.festive_orders >= rules.seasonal_min_orders
    )
