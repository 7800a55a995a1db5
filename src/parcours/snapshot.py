"""The read snapshot: what readers see while a command writes the warehouse.

DuckDB lets no other process open a file that one process writes, even to read. So each
writing CLI command (not the server, whose turns are short) copies the closed, consistent
database file to ``<database>.snapshot`` when it ends, and when it starts if another program
changed the file since; a reader that finds a command holding the warehouse reads the
snapshot instead of failing: the state when that command started. The copy is swapped in by
rename, so a reader already on the previous snapshot keeps it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SUFFIX = ".snapshot"
# Set by the CLI: its commands keep the snapshot; a program using the library (a notebook,
# a benchmark) does not pay for the copy.
_kept = False


def keep_for_readers() -> None:
    """Make this process refresh the read snapshot before each write (the CLI does)."""
    global _kept
    _kept = True


def snapshot_path(database: Path) -> Path:
    return database.with_name(database.name + SUFFIX)


def refresh(database: Path) -> None:
    """Copy ``database`` to its snapshot unless the snapshot already holds this version.

    The caller holds the workspace lock and has not opened the file yet.
    """
    if not _kept or not database.exists():
        return
    target = snapshot_path(database)
    stat = database.stat()
    if target.exists():
        mine = target.stat()
        if (mine.st_mtime_ns, mine.st_size) == (stat.st_mtime_ns, stat.st_size):
            return
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(database, tmp)
    os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    tmp.replace(target)


def discard(database: Path) -> None:
    """Remove the snapshot (after an erasure: it holds what was erased)."""
    snapshot_path(database).unlink(missing_ok=True)
