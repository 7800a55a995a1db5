"""One writing parcours command per workspace, and a message naming the one that holds it.

The writer holds an exclusive ``flock`` on a lock file next to the warehouse and writes its
command line and pid into it; the system releases the lock when the process ends, even after
``kill -9``, so a stale file never blocks anyone.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from parcours.errors import UserInputError

SERVICE_COMMAND = "parcours serve"


def command_line() -> str:
    """The running command as the user typed it (``parcours run --as-of ...``)."""
    return " ".join(["parcours", *sys.argv[1:]])


class WorkspaceLock:
    """The exclusive right to write a workspace's warehouse."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, wait_for_service: float = 0) -> WorkspaceLock:
        """Take the lock, or raise the error naming its holder.

        While ``parcours serve`` holds it (a load, a read), wait up to ``wait_for_service``
        seconds for its turn to end instead of failing at once.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_for_service
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline and self.held_by_service():
                    time.sleep(0.05)
                    continue
                os.close(fd)
                raise self.locked_error() from None
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n{started}\n{command_line()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            # The command line may name a person (privacy erase EMAIL): it goes with the lock.
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> str | None:
        """``'parcours run' (pid 123, since ...)`` while another process holds the lock."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
                pid, since, command = (lines + ["?", "?", "another parcours command"])[:3]
                return f"'{command}' (pid {pid}, since {since})"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    @staticmethod
    def is_service() -> bool:
        """Whether this process is ``parcours serve``."""
        return command_line().startswith(SERVICE_COMMAND)

    def held_by_service(self) -> bool:
        """Whether the holder is ``parcours serve``, whose turns on the warehouse are short."""
        holder = self.holder()
        return holder is not None and holder.startswith(f"'{SERVICE_COMMAND}")

    def locked_error(self, detail: str | None = None) -> UserInputError:
        holder = self.holder()
        if holder is None:
            return UserInputError(
                f"the workspace is open in another program: {detail}",
                hint="close the other program (a parcours sql, a notebook) and run this again",
            )
        return UserInputError(
            f"the workspace is in use by {holder}",
            hint="wait for that command to finish, or stop it (its pid is above), "
            "then run this again",
        )
