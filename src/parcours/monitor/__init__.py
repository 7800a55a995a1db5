"""Monitoring: KPI series with seasonal baselines, explained incidents, abnormal customers, alerts.

Entry points: ``write_monitor`` (the stage) and ``list_incidents`` (``parcours monitor
--list``); ``parcours.views.monitoring`` shows them.
"""

from parcours.monitor.stage import MonitorReport, list_incidents, write_monitor

__all__ = ["MonitorReport", "list_incidents", "write_monitor"]
