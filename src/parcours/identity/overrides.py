"""An analyst's decisions, kept in the workspace: these two records are (not) one person.

``identity-overrides.csv`` has one decision per line: ``same`` forces a merge, ``different``
undoes one. The latest decision about a pair wins. Resolution honours them and says so.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from parcours.errors import Problem, UserInputError

FILE = "identity-overrides.csv"
FIELDS = ("decision", "record", "other", "note", "decided_at")
DECISIONS = ("same", "different")


@dataclass(frozen=True)
class Override:
    decision: str
    record: str
    other: str
    note: str = ""


def parse_record(text: str, *, file: str | None = None, line: int | None = None) -> str:
    """``source:source_id`` as typed by the analyst, checked."""
    source, sep, source_id = text.partition(":")
    if not sep or not source or not source_id:
        raise UserInputError(
            Problem(
                f"{text!r} is not a record reference",
                file=file,
                line=line,
                field="record",
                hint="write SOURCE:ID, e.g. store:22986657",
            )
        )
    return f"{source}:{source_id}"


def read_overrides(directory: Path) -> list[Override]:
    """The decisions in force (the latest per pair)."""
    path = directory / FILE
    if not path.exists():
        return []
    latest: dict[frozenset[str], Override] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            decision = (row.get("decision") or "").strip()
            if decision not in DECISIONS:
                raise UserInputError(
                    Problem(
                        f"unknown decision {decision!r}",
                        file=FILE,
                        line=line,
                        field="decision",
                        hint="use same or different",
                    )
                )
            a = parse_record(row.get("record") or "", file=FILE, line=line)
            b = parse_record(row.get("other") or "", file=FILE, line=line)
            latest[frozenset((a, b))] = Override(decision, a, b, row.get("note") or "")
    return list(latest.values())


def add_override(
    directory: Path, decision: str, record: str, other: str, note: str = ""
) -> Override:
    """Append a decision to the workspace's overrides file."""
    override = Override(decision, parse_record(record), parse_record(other), note)
    if override.record == override.other:
        raise UserInputError("a record cannot be compared with itself", hint="give two records")
    path = directory / FILE
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(FIELDS)
        writer.writerow(
            (decision, override.record, override.other, note, dt.datetime.now(dt.UTC).isoformat())
        )
    return override
