"""A CSV per channel and day, ready to import into an e-mailing or SMS platform.

Rows are appended, and a message already in the file is not written again.
"""

from __future__ import annotations

import csv
from pathlib import Path

from parcours.activation.channels.base import Delivery, Message, now

COLUMNS = ("message_id", "channel", "to", "language", "subject", "body", "route", "plan")


class FileTransport:
    def __init__(self, directory: Path, channel: str) -> None:
        self.directory = directory
        self.channel = channel

    def path(self) -> Path:
        return self.directory / f"crm_{self.channel}.csv"

    def send(self, messages: list[Message]) -> list[Delivery]:
        if not messages:
            return []
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path()
        seen: set[str] = set()
        if path.exists():
            with path.open(encoding="utf-8", newline="") as f:
                seen = {row["message_id"] for row in csv.DictReader(f)}
        new = not path.exists()
        with path.open("a", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            if new:
                writer.writeheader()
            for m in messages:
                if m.message_id not in seen:
                    writer.writerow(
                        {
                            "message_id": m.message_id,
                            "channel": m.channel,
                            "to": m.to or "",
                            "language": m.language,
                            "subject": m.subject,
                            "body": m.body,
                            "route": m.data.get("route", ""),
                            "plan": m.data.get("plan", ""),
                        }
                    )
        at = now()
        return [Delivery(m.message_id, "sent", sent_at=at) for m in messages]
