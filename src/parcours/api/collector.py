"""The collection routes' work: decode, check, authenticate, append durably."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from parcours.api.auth import authenticate, presented_key
from parcours.api.collect_log import CollectLog
from parcours.api.keys import KeyRing
from parcours.api.segment import MAX_REQUEST_BYTES, PayloadError, check_batch, check_limits
from parcours.suppression import ANONYMOUS, EMAIL, RECORD, Suppression

# messageIds remembered to drop a client's retries before they reach the log; beyond this
# window, the warehouse's upsert by event id still keeps one copy.
DEDUPE_WINDOW = 200_000


def decode_body(raw: bytes, encoding: str | None) -> Any:
    """The JSON body, gunzipped when sent so; PayloadError when unreadable or too large."""
    if encoding and encoding.strip().lower() in ("gzip", "x-gzip"):
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = inflater.decompress(raw, MAX_REQUEST_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile) as e:
            raise PayloadError("invalid_gzip", f"the body is not valid gzip: {e}") from None
        if len(raw) > MAX_REQUEST_BYTES:
            raise PayloadError(
                "request_too_large", "the request is over the 500 KB limit once unzipped"
            )
    if len(raw) > MAX_REQUEST_BYTES:
        raise PayloadError(
            "request_too_large",
            f"request of {len(raw)} bytes is over the 500 KB limit; send smaller batches",
        )
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PayloadError("invalid_json", f"the body is not valid JSON: {e}") from None


class Collector:
    """Accepts Segment messages for one workspace into its collection log."""

    def __init__(self, keys: KeyRing, collect_log: CollectLog, suppression: Suppression) -> None:
        self.keys = keys
        self.log = collect_log
        self.suppression = suppression
        self._seen: OrderedDict[str, None] = OrderedDict()

    def accept(
        self, raw: bytes, encoding: str | None, authorization: str | None, single: str | None
    ) -> dict[str, int]:
        """Validate and durably append one request; ``single`` is the single-call route's type.

        Returns the counts of kept, quarantined and duplicate messages.
        """
        received_at = datetime.now(UTC).replace(tzinfo=None)
        body = decode_body(raw, encoding)
        if not isinstance(body, dict):
            raise PayloadError("invalid_body", "the body must be a JSON object")
        key = authenticate(
            self.keys.keys(), presented_key(authorization, body.get("writeKey")), "write"
        )
        if single is None:
            items = body.get("batch")
            if not isinstance(items, list):
                raise PayloadError("invalid_body", "batch: missing or not a list")
        else:
            item = {k: v for k, v in body.items() if k != "writeKey"}
            item.setdefault("type", single)
            items = [item]
        check_limits(items, len(raw))
        checked = check_batch(
            items,
            received_at=received_at,
            sent_at=body.get("sentAt"),
            context=body.get("context") if single is None else None,
            integrations=body.get("integrations") if single is None else None,
        )
        self.suppression.refresh()
        fresh, seen_now, suppressed = [], set(), 0
        for msg in checked.valid:
            mid = msg["messageId"]
            if mid in self._seen or mid in seen_now:
                continue
            if self._suppressed(key.source, msg):
                suppressed += 1
                continue
            seen_now.add(mid)
            fresh.append(msg)
        invalid = []
        for item, reasons in checked.invalid:  # a retried refusal is quarantined once
            mid = item.get("messageId") if isinstance(item, dict) else None
            if isinstance(mid, str) and mid:
                if mid in self._seen or mid in seen_now:
                    continue
                seen_now.add(mid)
            if isinstance(item, dict) and self._suppressed(key.source, item):
                suppressed += 1
                continue
            invalid.append({"item": item, "reasons": reasons})
        if fresh or invalid:
            self.log.append(
                {
                    "source": key.source,
                    "channel": key.channel,
                    "key_id": key.key_id,
                    "received_at": received_at.isoformat(),
                    "valid": fresh,
                    "invalid": invalid,
                }
            )
        for mid in seen_now:  # only once durable: a failed append must be retried
            self._seen[mid] = None
        while len(self._seen) > DEDUPE_WINDOW:
            self._seen.popitem(last=False)
        return {
            "kept": len(fresh),
            "quarantined": len(invalid),
            "duplicates": len(items) - len(fresh) - len(invalid) - suppressed,
            "suppressed": suppressed,
        }

    def _suppressed(self, source: str, msg: dict[str, Any]) -> bool:
        """Whether the message is about an erased person: it is dropped before the log."""
        if not self.suppression.hashes:
            return False
        context = msg.get("context")
        traits = msg.get("traits") or (context.get("traits") if isinstance(context, dict) else None)
        email = traits.get("email") if isinstance(traits, dict) else None
        user = msg.get("userId")
        return (
            (user is not None and self.suppression.suppresses(RECORD, f"{source}:{user}"))
            or self.suppression.suppresses(ANONYMOUS, _text(msg.get("anonymousId")))
            or self.suppression.suppresses(ANONYMOUS, _text(msg.get("previousId")))
            or self.suppression.suppresses(EMAIL, _text(email, lower=True))
        )


def _text(value: Any, lower: bool = False) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    return text.lower() if lower else text
