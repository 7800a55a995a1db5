"""Transports that deliver messages: e-mail over SMTP, a signed webhook, a CSV export.

Each one takes ``Message`` objects and returns one ``Delivery`` per message; nothing here
knows about plans, so any stage (alerts, later) can send through them. Secrets are read from
the environment variables the config names, at the moment of sending, and never logged.
"""

from __future__ import annotations

from pathlib import Path

from parcours.activation.channels.base import Delivery, Message, Transport
from parcours.activation.channels.export import FileTransport
from parcours.activation.channels.smtp import SmtpTransport
from parcours.activation.channels.webhook import WebhookTransport
from parcours.config import TransportConfig

__all__ = ["Delivery", "Message", "Transport", "transport"]


def transport(channel: str, config: TransportConfig, workspace_dir: Path) -> Transport:
    """The transport configured for ``channel``."""
    if config.kind == "smtp":
        return SmtpTransport(config)
    if config.kind == "webhook":
        return WebhookTransport(config, channel)
    return FileTransport(workspace_dir / config.directory, channel)
