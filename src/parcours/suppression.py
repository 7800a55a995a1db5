"""The suppression list: identifiers of erased persons, kept only as salted hashes.

After an erasure, a later ingest or collected event must not bring the person back. The
workspace keeps, for each erased identifier, ``sha256(salt | kind | value)`` with a random
salt of its own, never the identifier itself. Ingestion drops the rows of a suppressed person
(orders are kept, de-identified, as erasure keeps them) and collection drops their messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import ibis

from parcours.schema import SOURCE

SUPPRESSION_FILE = Path("privacy") / "suppressed.json"

# Kinds of identifier: a normalized email, an E.164 phone, a record ``source:id``, a visitor id.
EMAIL, PHONE, RECORD, ANONYMOUS = "email", "phone", "record", "anonymous"

# Per canonical table: which identifiers a row carries, as (kind, column); ``record`` is the
# source with the column holding the source's customer id.
_ROW_IDENTIFIERS: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": ((RECORD, "source_id"), (EMAIL, "email"), (PHONE, "phone")),
    "events": ((RECORD, "customer_id"), (ANONYMOUS, "anonymous_id")),
    "consents": ((RECORD, "customer_id"),),
    "orders": ((RECORD, "customer_id"),),
}
# The column holding the source's customer id, per canonical table.
RECORD_COLUMNS = {t: c for t, ids in _ROW_IDENTIFIERS.items() for kind, c in ids if kind == RECORD}
# Rows of these tables are kept for accounting, without the person's id.
_DEIDENTIFIED = {"orders": "customer_id"}


class Suppression:
    """The workspace's suppression list.

    Parameters
    ----------
    workspace_dir
        The workspace; the list lives in ``privacy/suppressed.json``.
    """

    def __init__(self, workspace_dir: Path) -> None:
        self.path = Path(workspace_dir) / SUPPRESSION_FILE
        self._stamp: float | None = None
        self.salt = ""
        self.hashes: frozenset[str] = frozenset()
        self.refresh()

    def refresh(self) -> None:
        """Read the list again if another process changed it."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if stamp == self._stamp:
            return
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self.salt, self.hashes, self._stamp = data["salt"], frozenset(data["hashes"]), stamp

    def digest(self, kind: str, value: str) -> str:
        return hashlib.sha256(f"{self.salt}|{kind}|{value}".encode()).hexdigest()

    def add(self, identifiers: Iterable[tuple[str, str]]) -> None:
        """Suppress ``(kind, value)`` pairs; the file is replaced atomically."""
        self.refresh()
        if not self.salt:
            self.salt = secrets.token_hex(16)
        hashes = self.hashes | {self.digest(k, v) for k, v in identifiers if v}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"salt": self.salt, "hashes": sorted(hashes)}), "utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        tmp.replace(self.path)
        self.hashes, self._stamp = frozenset(hashes), None
        self.refresh()

    def suppresses(self, kind: str, value: str | None) -> bool:
        return bool(self.hashes) and value is not None and self.digest(kind, value) in self.hashes

    def _hashed(self, kind: str, value: ibis.StringValue) -> ibis.StringValue:
        return (ibis.literal(f"{self.salt}|{kind}|") + value).hexdigest("sha256")

    def row_filter(self, table_name: str, rows: ibis.Table) -> ibis.BooleanValue | None:
        """True on the rows of ``table_name`` that belong to a suppressed person."""
        found = None
        hashes = list(self.hashes)
        for kind, column in _ROW_IDENTIFIERS.get(table_name, ()):
            if column not in rows.columns:
                continue
            value = rows[SOURCE] + ":" + rows[column] if kind == RECORD else rows[column]
            hit = self._hashed(kind, value).isin(hashes).fill_null(False)
            found = hit if found is None else found | hit
        return found

    def without_suppressed(self, table_name: str, rows: ibis.Table) -> ibis.Table | None:
        """``rows`` without the suppressed persons' rows, orders de-identified instead.

        None when nothing is suppressed or ``table_name`` carries no identifier.
        """
        self.refresh()
        found = self.row_filter(table_name, rows) if self.hashes else None
        if found is None:
            return None
        column = _DEIDENTIFIED.get(table_name)
        if column is not None:
            return rows.mutate(**{column: ibis.ifelse(found, ibis.null(str), rows[column])})
        return rows.filter(~found)
