"""Where the service keeps its files in the workspace."""

from __future__ import annotations

from pathlib import Path

SERVICE_DIR = "service"


def service_dir(workspace_dir: Path) -> Path:
    """The workspace's service folder (keys, collection log, access log), created on demand."""
    path = Path(workspace_dir) / SERVICE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path
