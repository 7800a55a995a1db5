"""Segment's HTTP Tracking API: payload limits, per-item validation and the canonical rows.

The official libraries send ``{"batch": [...], "sentAt": ..., "writeKey": ...}`` to
``/v1/batch``; the single-call routes send one message. Limits are Segment's: a message over
32 KB, a request over 500 KB or a batch of more than 2,500 messages refuses the whole request.
Within the limits, each message is checked on its own: an invalid one is quarantined with its
reasons and the others are kept.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser

MAX_EVENT_BYTES = 32 * 1024
MAX_REQUEST_BYTES = 500 * 1024
MAX_BATCH_ITEMS = 2500
TYPES = ("identify", "track", "page", "screen", "group", "alias")

# Segment's E-commerce v2 events that become journey touchpoints of the stage model.
TOUCHPOINTS = {
    "Product Viewed": "product_view",
    "Product Added": "add_to_cart",
    "Checkout Started": "checkout_start",
}
ORDER_COMPLETED = "Order Completed"
ORDER_STATUS = {"Order Refunded": "returned", "Order Cancelled": "cancelled"}
CONSENT_UPDATED = "Consent Updated"
CONSENT_CHANNELS = ("email", "sms", "push", "post", "phone")


class PayloadError(ValueError):
    """The whole request is refused (400), naming the failing item."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Checked:
    """A batch after validation: messages to keep and messages to quarantine."""

    valid: list[dict[str, Any]]
    invalid: list[tuple[dict[str, Any], list[str]]]


def parse_time(value: Any) -> datetime | None:
    """A tolerant ISO-8601 parse (``Z``, offsets, dates, spaces, fractions) to naive UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            t = dateparser.isoparse(value.strip())
        except (ValueError, OverflowError):
            return None
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t


def iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds") + "Z"


def check_limits(items: list[Any], body_size: int) -> None:
    """Segment's request limits; a PayloadError names the first failing item."""
    if body_size > MAX_REQUEST_BYTES:
        raise PayloadError(
            "request_too_large",
            f"request of {body_size} bytes is over the 500 KB limit; send smaller batches",
        )
    if len(items) > MAX_BATCH_ITEMS:
        raise PayloadError(
            "batch_too_large",
            f"batch of {len(items)} items is over the limit of {MAX_BATCH_ITEMS}",
        )
    for i, item in enumerate(items):
        size = len(json.dumps(item, separators=(",", ":"), default=str).encode("utf-8"))
        if size > MAX_EVENT_BYTES:
            raise PayloadError(
                "event_too_large",
                f"batch[{i}] is {size} bytes, over the 32 KB limit per event",
            )


def _reasons(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["not a JSON object"]
    reasons = []
    kind = item.get("type")
    if kind not in TYPES:
        reasons.append(f"type: {kind!r} is not one of {', '.join(TYPES)}")
    if kind == "alias":
        if not _text(item.get("previousId")):
            reasons.append("previousId: missing")
        if not _text(item.get("userId")):
            reasons.append("userId: missing")
    elif not (_text(item.get("userId")) or _text(item.get("anonymousId"))):
        reasons.append("userId or anonymousId: missing")
    if kind == "track" and not _text(item.get("event")):
        reasons.append("event: missing")
    if kind == "group" and not _text(item.get("groupId")):
        reasons.append("groupId: missing")
    for field in ("properties", "traits", "context"):
        if item.get(field) is not None and not isinstance(item.get(field), dict):
            reasons.append(f"{field}: not a JSON object")
    return reasons


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def check_batch(
    items: list[Any],
    *,
    received_at: datetime,
    sent_at: Any = None,
    context: Any = None,
    integrations: Any = None,
) -> Checked:
    """Validate each item, merge the batch's context and set the Segment timestamps.

    ``timestamp`` is corrected for the device's clock skew:
    ``receivedAt - (sentAt - originalTimestamp)``.
    """
    valid, invalid = [], []
    batch_sent = parse_time(sent_at)
    for item in items:
        reasons = _reasons(item)
        if reasons:
            invalid.append((item, reasons))
            continue
        msg = dict(item)
        for field, shared in (("context", context), ("integrations", integrations)):
            if isinstance(shared, dict):
                msg[field] = {**shared, **(msg.get(field) or {})}
        msg["messageId"] = _text(msg.get("messageId")) or f"api-{uuid.uuid4()}"
        original = parse_time(msg.get("originalTimestamp")) or parse_time(msg.get("timestamp"))
        sent = parse_time(msg.get("sentAt")) or batch_sent
        if original is not None and sent is not None:
            timestamp = received_at - (sent - original)
        else:
            timestamp = original or received_at
        if original is not None:
            msg["originalTimestamp"] = iso(original)
        msg["receivedAt"] = iso(received_at)
        msg["timestamp"] = iso(timestamp)
        valid.append(msg)
    return Checked(valid, invalid)


# -- canonical rows ------------------------------------------------------------------------
def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_") or "event"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _first(d: dict[str, Any], *names: str) -> Any:
    for n in names:
        v = d.get(n)
        if v is not None and v != "":
            return v
    return None


def _customer(msg: dict[str, Any], traits: dict[str, Any]) -> dict[str, Any]:
    address = traits.get("address") if isinstance(traits.get("address"), dict) else {}
    return {
        "source_id": _text(msg.get("userId")),
        "email": _text(traits.get("email")),
        "phone": _text(traits.get("phone")),
        "first_name": _text(_first(traits, "firstName", "first_name")),
        "last_name": _text(_first(traits, "lastName", "last_name")),
        "birth_date": _text(_first(traits, "birthday", "birth_date")),
        "gender": _text(traits.get("gender")),
        "address_line1": _text(_first(address, "street", "line1")),
        "address_line2": _text(_first(address, "line2")),
        "postal_code": _text(_first(address, "postalCode", "postal_code")),
        "city": _text(address.get("city")),
        "region": _text(_first(address, "state", "region")),
        "country": _text(address.get("country")),
        "loyalty_id": _text(_first(traits, "loyaltyId", "loyalty_id")),
        "created_at": _text(_first(traits, "createdAt", "created_at")),
    }


def _consents(msg: dict[str, Any], decisions: Any, when: str) -> list[dict[str, Any]]:
    user = _text(msg.get("userId"))
    if not isinstance(decisions, dict):
        return []
    return [
        {"customer_id": user, "channel": ch, "granted": bool(v), "recorded_at": when}
        for ch, v in decisions.items()
        if isinstance(v, bool)
    ]


def canonical_rows(msg: dict[str, Any], channel: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of the canonical input tables one valid message becomes.

    Keys are ingestion kinds (``customers``, ``orders``, ``order-lines``, ``events``,
    ``consents``) plus ``order-status`` (refunds and cancellations of known orders).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    kind = msg["type"]
    when = msg["timestamp"]
    props = msg.get("properties") or {}
    traits = msg.get("traits") or (msg.get("context") or {}).get("traits") or {}
    context = msg.get("context") or {}
    page = context.get("page") if isinstance(context.get("page"), dict) else {}
    user, anon = _text(msg.get("userId")), _text(msg.get("anonymousId"))

    def event(type_: str, **extra: Any) -> None:
        row = {
            "event_id": msg["messageId"],
            "occurred_at": when,
            "type": type_,
            "channel": channel,
            "customer_id": user,
            "anonymous_id": anon,
            "session_id": _text(_first(context, "sessionId", "session_id")),
            "url": _text(_first(props, "url") or page.get("url")),
            "sku": None,
            "properties": json.dumps(props, default=str) if props else None,
        }
        row.update(extra)
        out.setdefault("events", []).append(row)

    if kind == "identify":
        if user:
            out["customers"] = [_customer(msg, traits)]
            decisions = _first(traits, "consents", "consent")
            out["consents"] = _consents(msg, decisions, when)
        # The identify touchpoint; with both ids it also links the visitor to the customer.
        event("identify", properties=json.dumps(traits, default=str) if traits else None)
    elif kind == "alias":
        event("alias", anonymous_id=_text(msg.get("previousId")))
    elif kind in ("page", "screen"):
        name = _text(msg.get("name"))
        url = _text(_first(props, "url") or page.get("url"))
        if url is None and kind == "screen" and name:
            url = f"screen://{name}"
        event("page_view", url=url)
    elif kind == "group":
        event("group", properties=json.dumps({"groupId": msg.get("groupId"), **traits}))
    else:  # track
        name = str(msg["event"]).strip()
        if name == ORDER_COMPLETED:
            out.update(_order(msg, props, channel, when))
        elif name in ORDER_STATUS:
            order_id = _text(_first(props, "order_id", "orderId"))
            if order_id:
                out["order-status"] = [{"order_id": order_id, "status": ORDER_STATUS[name]}]
        elif name == CONSENT_UPDATED:
            decisions = props.get("consents")
            if decisions is None and _text(props.get("channel")):
                decisions = {props["channel"]: props.get("granted")}
            out["consents"] = _consents(msg, decisions, when)
            event("consent_updated")
        else:
            sku = _text(_first(props, "sku", "product_id", "productId"))
            event(TOUCHPOINTS.get(name, _snake(name)), sku=sku)
    return out


def _order(
    msg: dict[str, Any], props: dict[str, Any], channel: str, when: str
) -> dict[str, list[dict[str, Any]]]:
    order_id = _text(_first(props, "order_id", "orderId", "checkout_id"))
    products = props.get("products") if isinstance(props.get("products"), list) else []
    lines = []
    for no, p in enumerate(products, start=1):
        if not isinstance(p, dict):
            continue
        quantity = _number(p.get("quantity"))
        quantity = 1.0 if quantity is None else quantity
        price = _number(p.get("price"))
        lines.append(
            {
                "order_id": order_id,
                "line_no": no,
                "sku": _text(_first(p, "sku", "product_id", "productId")),
                "category": _text(p.get("category")),
                "quantity": quantity,
                "unit_price": price,
                "amount": None if price is None else round(price * quantity, 2),
            }
        )
    total = _number(_first(props, "total", "revenue"))
    if total is None and lines and all(line["amount"] is not None for line in lines):
        total = round(sum(line["amount"] for line in lines), 2)
    order = {
        "order_id": order_id,
        "customer_id": _text(msg.get("userId")),
        "ordered_at": when,
        "channel": channel,
        "store_id": None,
        "total_amount": total,
        "discount_amount": _number(props.get("discount")),
        "currency": _text(props.get("currency")),
        "status": "completed",
    }
    return {"orders": [order], "order-lines": lines}
