"""What every transport takes and returns."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Protocol

from parcours.errors import UserInputError


@dataclass(frozen=True)
class Message:
    """One message to one person.

    ``message_id`` is stable across retries and reruns: providers use it to drop duplicates.
    """

    message_id: str
    channel: str
    to: str | None
    subject: str
    body: str
    language: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one message: ``sent`` or ``failed`` (with why), after ``attempts``."""

    message_id: str
    status: str
    reason: str | None = None
    attempts: int = 1
    sent_at: dt.datetime | None = None


class Transport(Protocol):
    def send(self, messages: list[Message]) -> list[Delivery]: ...


def secret(variable: str | None, what: str) -> str | None:
    """The value of the environment variable ``variable`` (None when no variable is named)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise UserInputError(
            f"parcours.yaml: {what}: the environment variable {variable} is not set",
            hint=f"export {variable}=... before sending",
        )
    return value


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
