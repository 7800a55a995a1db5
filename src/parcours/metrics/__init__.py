"""Customer knowledge: the customer profile and its KPIs (``parcours profile``, ``kpis``)."""

from parcours.metrics.kpis import KpiReport, write_kpis, write_segment_kpis
from parcours.metrics.profile import ProfileReport, write_profile

__all__ = ["KpiReport", "ProfileReport", "write_kpis", "write_profile", "write_segment_kpis"]
