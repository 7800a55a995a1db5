"""Hand-made cases of the policy's pure parts: due time, holdout draw, webhook signing."""

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import ibis

from parcours.activation.channels.base import Message
from parcours.activation.channels.webhook import WebhookTransport
from parcours.activation.policy import due_at, holdout_threshold, in_holdout
from parcours.config import PlansConfig, TransportConfig


def test_due_time_on_a_quiet_sunday_waits_for_monday_end_of_quiet_hours_local_time():
    config = PlansConfig(send_hour=10, quiet_hours=(21, 8), quiet_days=["sun"])
    # 2026-11-01 is a Sunday; Paris is UTC+1 in November.
    assert due_at(dt.date(2026, 11, 1), config, "Europe/Paris") == dt.datetime(2026, 11, 2, 7)
    assert due_at(dt.date(2026, 11, 2), config, "Europe/Paris") == dt.datetime(2026, 11, 2, 9)


def test_send_hour_inside_quiet_hours_waits_for_their_end():
    config = PlansConfig(send_hour=22, quiet_hours=(21, 8), quiet_days=[])
    assert due_at(dt.date(2026, 11, 2), config, "UTC") == dt.datetime(2026, 11, 3, 8)


def test_holdout_draw_is_the_md5_prefix_below_the_share():
    assert holdout_threshold(0.1) == "1999999a"
    people = [f"P{i}" for i in range(2000)]
    t = ibis.memtable({"person": people})
    expr = t.mutate(held=in_holdout(ibis.literal("winback"), t.person, "1999999a"))
    got = ibis.duckdb.connect().execute(expr)
    expected = [hashlib.md5(f"winback:{p}".encode()).hexdigest()[:8] < "1999999a" for p in people]
    assert got.held.tolist() == expected
    # 99% binomial interval of 10% of 2000: 200 +- 2.576 * sqrt(180).
    assert 165 <= sum(expected) <= 235


def test_webhook_retries_5xx_then_succeeds_signed_with_idempotency_key(monkeypatch):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((dict(self.headers), body))
            self.send_response(503 if len(seen) < 3 else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SMS_KEY", "s3cret")
    waits = []
    config = TransportConfig(
        kind="webhook",
        url=f"http://127.0.0.1:{server.server_port}/sms",
        key_env="SMS_KEY",
        backoff_seconds=0.5,
    )
    way = WebhookTransport(config, "sms", sleep=waits.append)
    out = way.send([Message("abc123", "sms", "+33600000000", "Bonjour", "Texte", "fr")])
    server.shutdown()
    assert out[0].status == "sent" and out[0].attempts == 3
    assert waits == [0.5, 1.0]
    headers, body = seen[-1]
    assert headers["Idempotency-Key"] == "abc123"
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert json.loads(body)["to"] == "+33600000000"
    assert all(b == body for _, b in seen)
