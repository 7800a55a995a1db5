"""Alerts: new incidents sent once by e-mail and webhook, through the CRM plans' transports.

Which incidents alert is set by ``monitor``: KPIs, dimensions, severities, and how recent
they must be (``alert_days``), so that a first run over years of history does not send them
all. The journal ``monitor_alerts`` records each incident and channel that was sent; an
incident already sent on a channel is never sent there again, a failed one is retried.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from parcours.activation.channels import Message, transport
from parcours.config import MonitorConfig
from parcours.schema import DIMENSION, DIMENSION_VALUE, INCIDENT_ID, KPI

SENT = "sent"


def alerting(found: pd.DataFrame, config: MonitorConfig, as_of: dt.date) -> pd.DataFrame:
    """The incidents the configuration says to alert on."""
    if found.empty:
        return found
    recent = pd.to_datetime(found["end"]).dt.date >= as_of - dt.timedelta(days=config.alert_days)
    keep = recent & found["severity"].isin(config.alert_severities)
    if config.alert_kpis:
        keep &= found[KPI].isin(config.alert_kpis)
    if config.alert_dimensions:
        keep &= found[DIMENSION].isin(config.alert_dimensions)
    return found[keep]


def message(incident: pd.Series, channel: str, to: str | None) -> Message:
    """The alert of one incident: a one-line subject and the figures, as text and data."""
    where = (
        "overall"
        if incident[DIMENSION] == "all"
        else f"{incident[DIMENSION]} {incident[DIMENSION_VALUE]}"
    )
    period = str(incident["start"])
    if incident["end"] != incident["start"]:
        period += f" to {incident['end']}"
    subject = (
        f"{incident[KPI]} {incident['relative']:+.0%} ({where}, {period}): "
        f"{incident['kind'].replace('_', ' ')}, {incident['severity']}"
    )
    lines = [
        subject,
        f"observed {incident['observed']:,.2f}, expected {incident['expected']:,.2f} "
        f"(interval {incident['lower']:,.2f} to {incident['upper']:,.2f})",
    ]
    if incident.get("explanation"):
        lines.append(f"where: {incident['explanation']}")
    data = {
        k: (str(v) if isinstance(v, dt.date) else v)
        for k, v in incident.items()
        if k in {INCIDENT_ID, KPI, DIMENSION, DIMENSION_VALUE, "start", "end", "severity", "kind"}
    }
    return Message(
        message_id=f"{incident[INCIDENT_ID]}-{channel}",
        channel=channel,
        to=to,
        subject=subject,
        body="\n".join(lines),
        language="en",
        data={"incident": data},
    )


def send_alerts(
    incidents: pd.DataFrame, journal: pd.DataFrame, config: MonitorConfig, workspace_dir: Path
) -> pd.DataFrame:
    """Send every incident not yet sent on each configured channel; the new journal rows.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The incidents that alert (``alerting``).
    journal : pandas.DataFrame
        The alert journal so far (incident_id, channel, status, ...).
    config : MonitorConfig
        Transports and recipients.
    workspace_dir : pathlib.Path
        The workspace (a file transport writes under it).

    Returns
    -------
    pandas.DataFrame
        One row per incident and channel attempted: incident_id, channel, status, reason,
        sent_at.
    """
    done = set(
        zip(
            journal.loc[journal["status"] == SENT, INCIDENT_ID],
            journal.loc[journal["status"] == SENT, "channel"],
            strict=True,
        )
    )
    rows = []
    for channel, settings in config.transports.items():
        todo = [i for _, i in incidents.iterrows() if (i[INCIDENT_ID], channel) not in done]
        if not todo:
            continue
        recipients = (config.recipients or [None]) if channel == "email" else [None]
        messages = [message(i, channel, to) for i in todo for to in recipients]
        deliveries = transport(channel, settings, workspace_dir).send(messages)
        by_incident: dict[str, list] = {}
        for m, d in zip(messages, deliveries, strict=True):
            by_incident.setdefault(m.message_id.rsplit("-", 1)[0], []).append(d)
        for incident_id, outcome in by_incident.items():
            failed = [d for d in outcome if d.status != SENT]
            rows.append(
                {
                    INCIDENT_ID: incident_id,
                    "channel": channel,
                    "status": "failed" if failed else SENT,
                    "reason": failed[0].reason if failed else None,
                    "sent_at": None if failed else max(d.sent_at for d in outcome),
                }
            )
    return pd.DataFrame(rows, columns=[INCIDENT_ID, "channel", "status", "reason", "sent_at"])
