"""API keys: one per source and scope, stored as SHA-256 hashes, compared in constant time.

A key is 32 random bytes, so a plain hash is enough (no salt or slow hash is needed against
guessing); only the hash and an 8-character prefix, which names the key in logs, are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from parcours.api.paths import service_dir
from parcours.errors import UserInputError

Scope = Literal["write", "read", "admin"]
SCOPES: tuple[str, ...] = ("write", "read", "admin")
# What each scope may do: admin may do everything, read may not send events.
GRANTS: dict[str, frozenset[str]] = {
    "write": frozenset({"write"}),
    "read": frozenset({"read"}),
    "admin": frozenset({"write", "read", "admin"}),
}
KEYS_FILE = "keys.json"
APP_CHANNELS = ("web", "app")


@dataclass(frozen=True)
class ApiKey:
    """A stored key: who it sends as, what it may do; never the key itself."""

    key_id: str
    source: str
    scope: str
    channel: str
    sha256: str
    created_at: str

    def allows(self, scope: str) -> bool:
        return scope in GRANTS[self.scope]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _path(workspace_dir: Path) -> Path:
    return service_dir(workspace_dir) / KEYS_FILE


def load_keys(workspace_dir: Path) -> list[ApiKey]:
    path = _path(workspace_dir)
    if not path.exists():
        return []
    return [ApiKey(**k) for k in json.loads(path.read_text(encoding="utf-8"))]


def create_key(
    workspace_dir: Path, source: str, scope: str, channel: str | None = None
) -> tuple[str, ApiKey]:
    """Create a key; returns the key (shown once) and what is stored of it.

    ``channel`` is the sales channel of the source's orders (web or app); default: the
    source's name when it is one of them, else web.
    """
    if scope not in SCOPES:
        raise UserInputError(f"scope: unknown scope {scope!r}", hint="use write, read or admin")
    if not source or not source.replace("-", "").replace("_", "").isalnum():
        raise UserInputError(
            f"source: {source!r} is not a source name", hint="use letters, digits, - and _"
        )
    channel = channel or (source if source in APP_CHANNELS else "web")
    if channel not in APP_CHANNELS:
        raise UserInputError(f"channel: unknown channel {channel!r}", hint="use web or app")
    key = f"pk_{scope}_{secrets.token_urlsafe(32)}"
    stored = ApiKey(
        key_id=key[: len(f"pk_{scope}_") + 8],
        source=source,
        scope=scope,
        channel=channel,
        sha256=_hash(key),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    path = _path(workspace_dir)
    keys = [asdict(k) for k in load_keys(workspace_dir)] + [asdict(stored)]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(keys, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return key, stored


def find_key(keys: list[ApiKey], presented: str) -> ApiKey | None:
    """The stored key matching ``presented``; every stored hash is compared in constant time."""
    digest = _hash(presented)
    found = None
    for k in keys:
        if hmac.compare_digest(k.sha256, digest):
            found = k
    return found


class KeyRing:
    """The stored keys, read again when the keys file changes (a key created while serving)."""

    def __init__(self, workspace_dir: Path) -> None:
        self.dir = Path(workspace_dir)
        self._mtime: float | None = None
        self._keys: list[ApiKey] = []

    def keys(self) -> list[ApiKey]:
        path = _path(self.dir)
        mtime = path.stat().st_mtime_ns if path.exists() else None
        if mtime != self._mtime:
            self._keys, self._mtime = load_keys(self.dir), mtime
        return self._keys
