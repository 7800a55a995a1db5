"""All terminal output: Rich consoles, tables, progress bars, error lines."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

# Piped or captured output has no width: give tables room instead of folding every cell.
_PIPE_WIDTH = 200
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
for _console in (out, err):
    if not _console.is_terminal and "COLUMNS" not in os.environ:
        _console.width = _PIPE_WIDTH


def error(message: str, hint: str | None = None, bullets: Sequence[str] = ()) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    for bullet in bullets:
        err.print(f"  - {bullet}", markup=False, soft_wrap=True)
    if hint:
        err.print(f"hint: {hint}", markup=False, soft_wrap=True)


def warn(message: str) -> None:
    err.print(message, markup=False, soft_wrap=True, style="yellow")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*("" if v is None else _fmt(v) for v in r))
    out.print(t)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@contextmanager
def file_progress() -> Iterator[Any]:
    """A progress bar per file, by bytes read; silent when output is not a terminal."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with bar:

        def for_file(path: Path):
            task = bar.add_task(path.name, total=path.stat().st_size)
            return lambda n: bar.advance(task, n)

        yield for_file
