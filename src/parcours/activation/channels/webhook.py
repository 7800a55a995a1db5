"""A JSON POST per message to the retailer's SMS or push provider.

The body is signed with HMAC-SHA256 (header ``X-Signature: sha256=HEX``) under the key of
the environment variable the config names; ``Idempotency-Key`` is the decision's id, so a
retried or repeated POST is recognised by the provider. 5xx answers, timeouts and refused
connections are retried with exponential backoff; 4xx answers are final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from parcours.activation.channels.base import Delivery, Message, now, secret
from parcours.config import TransportConfig


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport:
    def __init__(self, config: TransportConfig, channel: str, sleep=time.sleep) -> None:
        self.config = config
        self.channel = channel
        self.sleep = sleep

    def payload(self, m: Message) -> bytes:
        data = {
            "id": m.message_id,
            "channel": m.channel,
            "to": m.to,
            "subject": m.subject,
            "body": m.body,
            "language": m.language,
            **m.data,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()

    def send(self, messages: list[Message]) -> list[Delivery]:
        key = secret(self.config.key_env, f"plans.transports.{self.channel}.key_env")
        return [self._post(m, key) for m in messages]

    def _post(self, m: Message, key: str | None) -> Delivery:
        c = self.config
        body = self.payload(m)
        headers = {"Content-Type": "application/json", "Idempotency-Key": m.message_id}
        if key is not None:
            headers["X-Signature"] = signature(key, body)
        wait, reason = c.backoff_seconds, None
        for attempt in range(1, c.retries + 2):
            request = urllib.request.Request(c.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=c.timeout_seconds):
                    return Delivery(m.message_id, "sent", attempts=attempt, sent_at=now())
            except urllib.error.HTTPError as e:
                reason = f"http_{e.code}"
                if e.code < 500:
                    return Delivery(m.message_id, "failed", reason, attempt)
            except (TimeoutError, urllib.error.URLError, ConnectionError) as e:
                reason = "timeout" if "timed out" in str(e) else "unreachable"
            if attempt <= c.retries:
                self.sleep(wait)
                wait *= 2
        return Delivery(m.message_id, "failed", reason, c.retries + 1)
