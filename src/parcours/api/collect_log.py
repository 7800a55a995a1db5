"""The collection log: append-only files of accepted batches, fsynced before the answer.

A 200 is sent only after the batch's line is written and ``fsync``-ed, so a crash right after
loses nothing. The loader seals the open segment, loads the sealed ones and deletes them once
the warehouse has committed; a crash between the two reloads a segment, which adds nothing
(rows are upserted by key).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from parcours.api.paths import service_dir

LOG_DIR = "log"
SEGMENT_GLOB = "segment-*.jsonl"


class BackPressure(Exception):
    """The log is full or the disk nearly so: the client should retry later (429)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CollectLog:
    """The workspace's collection log.

    Parameters
    ----------
    workspace_dir
        The workspace; the log lives in its ``service/log`` folder.
    max_bytes
        Size of the unloaded log beyond which ``append`` raises BackPressure.
    min_free_bytes
        Free disk space below which ``append`` raises BackPressure.
    """

    def __init__(self, workspace_dir: Path, max_bytes: int, min_free_bytes: int = 0) -> None:
        self.dir = service_dir(workspace_dir) / LOG_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._current: Path | None = None
        self._size = sum(p.stat().st_size for p in self.dir.glob(SEGMENT_GLOB))

    def size(self) -> int:
        return self._size

    def append(self, record: dict[str, Any]) -> None:
        """Write one batch durably, or raise BackPressure having written nothing."""
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        with self._lock:
            if self._size + len(line) > self.max_bytes:
                raise BackPressure(f"the collection log is full ({self._size} bytes)")
            if shutil.disk_usage(self.dir).free < self.min_free_bytes + len(line):
                raise BackPressure("the disk is nearly full")
            if self._fd is None:
                self._open_segment()
            assert self._fd is not None
            written = os.write(self._fd, line)
            if written != len(line):  # a full disk: cut the partial line so the log stays whole
                os.ftruncate(self._fd, os.lseek(self._fd, 0, os.SEEK_CUR) - written)
                raise BackPressure("the disk is full")
            os.fsync(self._fd)
            self._size += len(line)

    def _open_segment(self) -> None:
        name = f"segment-{time.time_ns():020d}.jsonl"
        self._current = self.dir / name
        self._fd = os.open(self._current, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.dir)  # the new file's name is durable too

    def seal(self) -> list[Path]:
        """Close the open segment; return every sealed segment, oldest first."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd, self._current = None, None
            return sorted(self.dir.glob(SEGMENT_GLOB))

    def remove(self, segments: list[Path]) -> None:
        """Delete loaded segments."""
        with self._lock:
            for path in segments:
                if path.exists():
                    self._size -= path.stat().st_size
                    path.unlink()
            _fsync_dir(self.dir)

    def rewrite(self, keep: Callable[[dict[str, Any]], bool]) -> int:
        """Rewrite every segment without the messages ``keep`` refuses; returns how many went.

        Each segment is written anew and swapped in, so no dropped byte stays in the log.
        """
        dropped = 0
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd, self._current = None, None
            for path in sorted(self.dir.glob(SEGMENT_GLOB)):
                lines = []
                for record in read_segment(path):
                    valid = [m for m in record.get("valid", []) if keep(m)]
                    invalid = [q for q in record.get("invalid", []) if keep(q.get("item"))]
                    dropped += len(record.get("valid", [])) - len(valid)
                    dropped += len(record.get("invalid", [])) - len(invalid)
                    if valid or invalid:
                        lines.append(json.dumps({**record, "valid": valid, "invalid": invalid}))
                tmp = path.with_suffix(".tmp")
                with tmp.open("w", encoding="utf-8") as f:
                    f.write("".join(line + "\n" for line in lines))
                    f.flush()
                    os.fsync(f.fileno())
                tmp.replace(path)
            _fsync_dir(self.dir)
            self._size = sum(p.stat().st_size for p in self.dir.glob(SEGMENT_GLOB))
        return dropped

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def read_segment(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a segment; a last line cut by a crash (never acknowledged) is skipped."""
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            yield json.loads(raw)
