"""Where the service keeps its files in the workspace."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SERVICE_DIR = "service"


def service_dir(workspace_dir: Path) -> Path:
    """The workspace's service folder (keys, collection log, access log), created on demand."""
    path = Path(workspace_dir) / SERVICE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


SERVER_LOCK = "server.lock"


def hold_served(workspace_dir: Path) -> int:
    """Mark the workspace as served until the descriptor is closed or the process ends."""
    fd = os.open(service_dir(workspace_dir) / SERVER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def is_served(workspace_dir: Path) -> bool:
    """Whether a ``parcours serve`` runs on the workspace."""
    path = Path(workspace_dir) / SERVICE_DIR / SERVER_LOCK
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
