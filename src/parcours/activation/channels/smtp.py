"""E-mail over SMTP, one connection per batch, with a stable Message-ID per decision."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from parcours.activation.channels.base import Delivery, Message, now, secret
from parcours.config import TransportConfig


class SmtpTransport:
    def __init__(self, config: TransportConfig) -> None:
        self.config = config

    def email(self, m: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.from_address
        mail["To"] = m.to
        mail["Subject"] = m.subject
        domain = self.config.from_address.rpartition("@")[2] or "parcours.local"
        mail["Message-ID"] = f"<{m.message_id}@{domain}>"
        mail.set_content(m.body)  # before Content-Language: it clears Content-* headers
        mail["Content-Language"] = m.language
        return mail

    def send(self, messages: list[Message]) -> list[Delivery]:
        if not messages:
            return []
        c = self.config
        password = secret(c.password_env, "plans.transports.email.password_env")
        out: list[Delivery] = []
        with smtplib.SMTP(c.host, c.port, timeout=30) as server:
            if c.starttls:
                server.starttls()
            if c.username and password:
                server.login(c.username, password)
            for m in messages:
                if not m.to:
                    out.append(Delivery(m.message_id, "failed", "no_address", 0))
                    continue
                try:
                    server.send_message(self.email(m))
                    out.append(Delivery(m.message_id, "sent", sent_at=now()))
                except smtplib.SMTPRecipientsRefused:
                    out.append(Delivery(m.message_id, "failed", "recipient_refused"))
                except smtplib.SMTPResponseException as e:
                    out.append(Delivery(m.message_id, "failed", f"smtp_{e.smtp_code}"))
        return out
