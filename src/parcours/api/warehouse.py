"""The server's turns on the warehouse, shared with the CLI.

DuckDB lets one process write a database file, and a file open for writing cannot be opened
by another process even to read. The server therefore never keeps the file open: each load
and each read of the profile API takes the workspace lock, opens the file, works and closes
it. A CLI command that finds the lock held by the server waits its turn (see ``lock.py``);
the server, finding it held by a command, reads the command's read snapshot (503 without
one) and leaves the collection log to the next load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from parcours.engine import Engine
from parcours.errors import ParcoursError, UserInputError
from parcours.lock import WorkspaceLock
from parcours.snapshot import snapshot_path
from parcours.workspace import Workspace


class WarehouseBusy(ParcoursError):
    """A command holds the warehouse; the request can be retried later."""

    code = "busy"


class Warehouse:
    """One server's access to its workspace's warehouse, one turn at a time."""

    def __init__(self, workspace_dir: Path) -> None:
        self.dir = Path(workspace_dir)
        self._turn = threading.Lock()

    def _lock(self, ws: Workspace) -> WorkspaceLock:
        path = ws.dir / ws.config.database
        return WorkspaceLock(path.with_name(path.name + ".lock"))

    @contextmanager
    def writing(self) -> Iterator[Workspace]:
        """The open workspace, its engine holding the write lock; WarehouseBusy if taken."""
        with self._turn:
            ws = Workspace.open(self.dir)
            try:
                try:
                    ws.engine  # noqa: B018 - connecting takes the lock
                except UserInputError as e:
                    raise WarehouseBusy(str(e.problem)) from None
                yield ws
            finally:
                ws.close()

    @contextmanager
    def reading(self) -> Iterator[Engine]:
        """A read-only engine, holding the workspace lock so no command opens it meanwhile."""
        with self._turn:
            ws = Workspace.open(self.dir)
            lock = self._lock(ws) if ws.config.engine == "duckdb" else None
            try:
                if lock is not None:
                    lock.acquire()
                engine = Engine.connect(ws.config, ws.dir, read_only=True, snapshot=False)
            except UserInputError as e:
                if lock is not None:
                    lock.release()
                engine = self._snapshot(ws)
                if engine is None:
                    raise WarehouseBusy(str(e.problem)) from None
                lock = None
            try:
                yield engine
            finally:
                engine.close()
                if lock is not None:
                    lock.release()

    @staticmethod
    def _snapshot(ws: Workspace) -> Engine | None:
        """While a command writes the warehouse, its read snapshot (see snapshot.py), if any."""
        if ws.config.engine != "duckdb" or not snapshot_path(ws.dir / ws.config.database).exists():
            return None
        engine = Engine.connect(ws.config, ws.dir, read_only=True)
        if engine.snapshot_of is None:  # the command ended meanwhile: take a normal turn
            engine.close()
            return None
        return engine
