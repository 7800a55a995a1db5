"""The e-mail channel against a real local SMTP server (aiosmtpd), in both languages."""

import socket
from email import message_from_bytes

from aiosmtpd.controller import Controller

from parcours.activation.channels.base import Message
from parcours.activation.channels.smtp import SmtpTransport
from parcours.activation.render import render
from parcours.config import Config, TransportConfig


class Inbox:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def test_smtp_delivers_french_and_english_messages_with_stable_message_ids():
    inbox = Inbox()
    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        plan = Config().plans.scenarios["winback"]
        fr = render(plan, "fr", {"first_name": "Inès", "store": "Lyon Part-Dieu"})
        en = render(plan, "en", {"first_name": "Anna", "store": None})
        config = TransportConfig(
            kind="smtp", host="127.0.0.1", port=port, from_address="crm@shop.fr"
        )
        out = SmtpTransport(config).send(
            [
                Message("id-fr", "email", "ines@example.fr", fr.subject, fr.body, "fr"),
                Message("id-en", "email", "anna@example.com", en.subject, en.body, "en"),
            ]
        )
    finally:
        controller.stop()
    assert [d.status for d in out] == ["sent", "sent"]
    (to_fr, mail_fr), (to_en, mail_en) = inbox.received
    assert to_fr == ["ines@example.fr"] and to_en == ["anna@example.com"]
    assert mail_fr["Subject"] == "Vous nous manquez"
    assert mail_fr["Message-ID"] == "<id-fr@shop.fr>"
    assert mail_fr["Content-Language"] == "fr"
    body_fr = mail_fr.get_payload(decode=True).decode()
    assert "Bonjour Inès" in body_fr and "-20 %" in body_fr and "Lyon Part-Dieu" in body_fr
    assert mail_en["Subject"] == "We miss you"
    body_en = mail_en.get_payload(decode=True).decode()
    assert "Hello Anna" in body_en and "20% off" in body_en and "web shop" in body_en
