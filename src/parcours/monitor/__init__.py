"""Monitoring: KPI series with seasonal baselines, explained incidents, abnormal customers, alerts.

Entry points: ``write_monitor`` (the stage), ``print_monitor`` (what ``parcours monitor``
prints) and ``list_incidents`` (``parcours monitor --list``).
"""

from parcours.monitor.stage import MonitorReport, list_incidents, print_monitor, write_monitor

__all__ = ["MonitorReport", "list_incidents", "print_monitor", "write_monitor"]
