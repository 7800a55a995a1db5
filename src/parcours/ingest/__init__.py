"""Ingestion: files of any source into the canonical tables, bad rows into quarantine.

``ingest_files`` is the one entry point. For each file: stream it into a staging Parquet file
of text columns, validate every row in the engine, upsert the valid rows by the table's key
(re-ingesting adds nothing) and replace the file's quarantine rows; read = loaded +
quarantined, always.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ibis

from parcours.config import SourceConfig, load_mapping
from parcours.engine import arrow_rows, conform
from parcours.errors import Problem, UserInputError
from parcours.ingest.mapping import plan_columns
from parcours.ingest.readers import LINE, Progress, stage_file
from parcours.ingest.validate import RAW, REASONS, rules
from parcours.schema import (
    DATA_QUALITY,
    FILE_PATH,
    INGEST_LOG,
    INGESTED_AT,
    QUARANTINE,
    SHA256,
    SOURCE,
    SOURCE_FILE,
    SOURCE_LINE,
    TableSpec,
    input_table,
)
from parcours.suppression import Suppression
from parcours.workspace import Workspace

__all__ = ["FileSummary", "IngestReport", "ingest_files"]

EXAMPLES_PER_FILE = 5
DUPLICATE_FINDING = "same id on several rows with different values; the last row was kept"


@dataclass
class FileSummary:
    """What happened to one file."""

    file: str
    kind: str
    source: str
    read: int = 0
    loaded: int = 0
    new: int = 0
    updated: int = 0
    quarantined: int = 0
    examples: list[Problem] = field(default_factory=list)  # a few quarantined rows
    findings: list[tuple[str, str, int, str]] = field(
        default_factory=list
    )  # field, what, rows, example
    ignored_columns: list[str] = field(default_factory=list)
    path: str = ""  # absolute path: with sha256, the file's identity in the system tables
    sha256: str = ""
    duplicates: int = 0  # ids found on several rows with different values
    suppressed: int = 0  # rows of erased persons, dropped (see suppression.py)
    duplicate_field: str = ""  # the id column(s)
    duplicate_examples: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """Every file of one ``ingest`` call, and the files that could not be read."""

    files: list[FileSummary] = field(default_factory=list)
    failures: list[UserInputError] = field(default_factory=list)


def ingest_files(
    workspace: Workspace,
    kind: str,
    paths: Sequence[str | Path],
    *,
    source: str | None = None,
    mapping: str | Path | None = None,
    canonical: bool = False,
    progress: Callable[[Path], Progress] | None = None,
) -> IngestReport:
    """Ingest files of one kind from one source.

    Parameters
    ----------
    workspace
        The open workspace.
    kind
        ``customers``, ``orders``, ``order-lines``, ``events``, ``consents``, ``products``
        or ``stores``.
    paths
        CSV, Parquet or JSON-lines files.
    source
        Source name; its settings come from ``sources.NAME`` of parcours.yaml. Defaults to
        the file's folder name when that is a configured source, else ``default``.
    mapping
        A mapping file that replaces the source's settings.
    canonical
        The files are already in parcours' columns and formats (the service's staged rows):
        the source's file settings and mapping do not apply.
    progress
        Given a file, returns a callback told how many bytes were read.

    Returns
    -------
    IngestReport
        Per-file counts, example problems and data-quality findings. A file that cannot be
        read at all is in ``failures``; the other files still load.
    """
    spec = input_table(kind)
    report = IngestReport()
    for path in map(Path, paths):
        name = source or _default_source(workspace, path)
        if canonical:
            settings, key = SourceConfig(), f"{path.name}: {spec.kind}"
        elif mapping is not None:
            settings, key = load_mapping(mapping), f"{Path(mapping).name}: tables.{spec.kind}"
        else:
            settings = workspace.config.sources.get(name) or SourceConfig()
            key = f"sources.{name}.tables.{spec.kind}"
        try:
            _check_readable(path)
            # One file's rows, quarantine, findings and log line commit together or not at all.
            with workspace.engine.batch():
                summary = _ingest_file(workspace, spec, path, name, settings, key, progress)
            report.files.append(summary)
        except UserInputError as e:
            report.failures.append(e)
        except OSError as e:
            # Read errors of the disk or of permissions: this file fails, the others load.
            problem = Problem(f"cannot read the file: {e.strerror or e}", file=str(path))
            report.failures.append(UserInputError(problem))
    return report


def _check_readable(path: Path) -> None:
    if path.is_dir():
        raise UserInputError(
            Problem(
                "is a folder, not a file",
                file=str(path),
                hint=f"give the files inside it, such as {path / '*.csv'}",
            )
        )
    if not path.exists():
        raise UserInputError(Problem("file not found", file=str(path)))
    with path.open("rb") as f:  # fails early, with the system's reason, if it cannot be read
        f.read(1)


def _default_source(workspace: Workspace, path: Path) -> str:
    folder = path.resolve().parent.name
    return folder if folder in workspace.config.sources else "default"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _ingest_file(
    workspace: Workspace,
    spec: TableSpec,
    path: Path,
    source: str,
    settings: SourceConfig,
    config_key: str,
    progress: Callable[[Path], Progress] | None,
) -> FileSummary:
    if not path.is_file():
        raise UserInputError(Problem("file not found", file=str(path)))
    engine = workspace.engine
    table_mapping = settings.mapping(spec.kind or spec.name)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    summary = FileSummary(
        path.name, spec.kind or spec.name, source, path=str(path.resolve()), sha256=_sha256(path)
    )
    with tempfile.TemporaryDirectory(prefix="parcours-ingest-", dir=workspace.dir) as tmp:
        staged = stage_file(
            path, settings, Path(tmp) / "staged.parquet", progress(path) if progress else None
        )
        plan = plan_columns(
            spec, staged.columns, table_mapping, file=path.name, config_key=config_key
        )
        summary.ignored_columns = plan.ignored
        date_formats = [f for f in (table_mapping.date_format, settings.date_format) if f]
        staging_name = f"_staged_{spec.name}"
        staged_table = engine.read_parquet(staged.path, staging_name)
        checked = rules(
            staged_table,
            spec,
            plan,
            header=staged.columns,
            decimal=staged.decimal,
            date_formats=date_formats,
            defaults=workspace.config.defaults,
            engine=engine,
            limits=workspace.config.ingest,
        )
        lineage = {
            SOURCE: ibis.literal(source),
            SOURCE_FILE: ibis.literal(path.name),
            SOURCE_LINE: checked.table[LINE],
            INGESTED_AT: ibis.literal(now, "timestamp"),
        }
        checked_name = f"_checked_{spec.name}"
        engine.write(checked_name, checked.table.mutate(**lineage), stage="ingest")
        try:
            _drop_suppressed(workspace, spec, checked_name, summary)
            rows = engine.table(checked_name)
            _count_findings(engine, checked.source, checked.findings, summary)
            _write_rows(engine, spec, rows, summary)
            _write_quarantine(engine, spec, rows, summary, now)
            _write_findings(engine, summary, now)
            _write_log(engine, summary, summary.sha256, now)
        finally:
            engine.drop(checked_name)
            engine.forget(staging_name)
    return summary


def _drop_suppressed(
    workspace: Workspace, spec: TableSpec, name: str, summary: FileSummary
) -> None:
    engine = workspace.engine
    rows = engine.table(name)
    kept = Suppression(workspace.dir).without_suppressed(spec.name, rows)
    if kept is None:
        return
    before = int(engine.execute(rows.count()))
    engine.write(name, kept, stage="ingest")
    summary.suppressed = before - int(engine.execute(engine.table(name).count()))


def _count_findings(engine, staged: ibis.Table, findings, summary: FileSummary) -> None:
    if not findings:
        return
    aggregates = {}
    for i, f in enumerate(findings):
        aggregates[f"n{i}"] = f.invalid.cast("int64").sum()
        aggregates[f"e{i}"] = f.raw.min(where=f.invalid)
    row = engine.to_pyarrow(staged.aggregate(**aggregates)).to_pylist()[0]
    for i, f in enumerate(findings):
        if row[f"n{i}"]:
            summary.findings.append((f.field, f.message, int(row[f"n{i}"]), row[f"e{i}"]))


def _write_rows(engine, spec: TableSpec, rows: ibis.Table, summary: FileSummary) -> None:
    columns = spec.column_names
    valid = rows.filter(rows[REASONS].isnull())
    stats = engine.to_pyarrow(
        rows.aggregate(read=rows.count(), bad=rows[REASONS].notnull().cast("int64").sum())
    ).to_pylist()[0]
    summary.read = int(stats["read"])
    summary.quarantined = int(stats["bad"] or 0)
    summary.loaded = summary.read - summary.quarantined
    _count_duplicates(engine, spec, valid, summary)
    # The last row of a key in the file wins; earlier ones count as loaded, then superseded.
    latest = (
        valid.mutate(
            _rank=ibis.row_number().over(
                group_by=[valid[k] for k in spec.key], order_by=ibis.desc(valid[SOURCE_LINE])
            )
        )
        .filter(ibis._._rank == 0)
        .select(columns)
    )
    if not engine.has_table(spec.name):
        summary.new = int(engine.execute(latest.count()))
        engine.write(spec.name, conform(latest, spec), stage="ingest")
        return
    existing = engine.table(spec.name)
    content = _content_columns(spec)
    joined = latest.left_join(existing, [latest[k] == existing[k] for k in spec.key])
    found = existing[spec.key[0]].notnull()
    same = ibis.and_(*(latest[c].identical_to(existing[c]) for c in content))
    flags = joined.select(
        new=(~found).cast("int64"),
        updated=(found & ~same).cast("int64"),
        **{k: latest[k] for k in spec.key},
    )
    counts = engine.to_pyarrow(flags.aggregate(new=flags.new.sum(), updated=flags.updated.sum()))
    counts = counts.to_pylist()[0]
    summary.new, summary.updated = int(counts["new"] or 0), int(counts["updated"] or 0)
    if not (summary.new or summary.updated):
        return
    changed = latest.semi_join(flags.filter((flags.new + flags.updated) > 0), list(spec.key))
    kept = existing.anti_join(changed, list(spec.key))
    engine.write(
        spec.name,
        conform(kept, spec).union(conform(changed, spec)),
        stage="ingest",
    )


def _content_columns(spec: TableSpec) -> list[str]:
    lineage = (SOURCE_FILE, SOURCE_LINE, INGESTED_AT)
    return [c for c in spec.column_names if c not in spec.key and c not in lineage]


def _count_duplicates(engine, spec: TableSpec, valid: ibis.Table, summary: FileSummary) -> None:
    """Count the ids of this file found on several rows with different values."""
    versions = valid.select(*spec.key, *_content_columns(spec)).distinct()
    clashing = versions.group_by(list(spec.key)).aggregate(versions=ibis._.count())
    clashing = clashing.filter(clashing.versions > 1)
    rows = valid.semi_join(clashing, list(spec.key))
    per_id = rows.group_by(list(spec.key)).aggregate(
        first=rows[SOURCE_LINE].min(), last=rows[SOURCE_LINE].max(), n=rows.count()
    )
    stats = engine.to_pyarrow(per_id.aggregate(ids=per_id.count())).to_pylist()[0]
    summary.duplicates = int(stats["ids"] or 0)
    if not summary.duplicates:
        return
    shown = [k for k in spec.key if k != SOURCE] or list(spec.key)
    summary.duplicate_field = ", ".join(shown)
    sample = per_id.order_by("first").limit(3)
    for r in engine.to_pyarrow(sample).to_pylist():
        what = ", ".join(f"{k} {r[k]!r}" for k in shown)
        summary.duplicate_examples.append(
            f"{what}: {r['n']} rows (lines {r['first']} to {r['last']})"
        )


def _replace_rows(engine, spec: TableSpec, new: ibis.Table, summary: FileSummary) -> None:
    """Replace the rows this file (any earlier version of it) wrote to a system table."""
    new = conform(new, spec)
    if engine.has_table(spec.name):
        old = engine.table(spec.name)
        for name in (FILE_PATH, SHA256):
            if name not in old.columns:  # a table written before files had an identity
                old = old.mutate(**{name: ibis.null("string")})
        mine = (
            (old["kind"] == summary.kind)
            & (old[SOURCE] == summary.source)
            & (old[FILE_PATH] == summary.path).fill_null(False)
        )
        new = conform(old.filter(~mine), spec).union(new)
    engine.write(spec.name, new, stage="ingest")


def _write_quarantine(engine, spec, rows: ibis.Table, summary: FileSummary, now) -> None:
    bad = rows.filter(rows[REASONS].notnull())
    if summary.quarantined:
        sample = bad.order_by(SOURCE_LINE).limit(EXAMPLES_PER_FILE)
        for r in engine.to_pyarrow(sample.select(SOURCE_LINE, REASONS)).to_pylist():
            field_name, _, message = r[REASONS].partition(": ")
            summary.examples.append(Problem(message, summary.file, r[SOURCE_LINE], field_name))
    quarantined = bad.select(
        kind=ibis.literal(summary.kind),
        **{
            SOURCE: bad[SOURCE],
            SOURCE_FILE: bad[SOURCE_FILE],
            FILE_PATH: ibis.literal(summary.path),
            SHA256: ibis.literal(summary.sha256),
            SOURCE_LINE: bad[SOURCE_LINE],
        },
        raw=bad[RAW],
        reasons=bad[REASONS],
        **{INGESTED_AT: ibis.literal(now, "timestamp")},
    )
    if summary.quarantined or engine.has_table(QUARANTINE.name):
        _replace_rows(engine, QUARANTINE, quarantined, summary)


def _write_findings(engine, summary: FileSummary, now) -> None:
    findings = list(summary.findings)
    if summary.duplicates:
        findings.append(
            (
                summary.duplicate_field,
                DUPLICATE_FINDING,
                summary.duplicates,
                summary.duplicate_examples[0],
            )
        )
    rows = [
        {
            "kind": summary.kind,
            SOURCE: summary.source,
            SOURCE_FILE: summary.file,
            FILE_PATH: summary.path,
            SHA256: summary.sha256,
            "field": f,
            "finding": finding,
            "rows": n,
            "example": example,
            INGESTED_AT: now,
        }
        for f, finding, n, example in findings
    ]
    if not rows and not engine.has_table(DATA_QUALITY.name):
        return
    table = engine.from_arrow(arrow_rows(rows, DATA_QUALITY), "_findings")
    _replace_rows(engine, DATA_QUALITY, table, summary)


def _write_log(engine, summary: FileSummary, sha256: str, now) -> None:
    row = {
        "kind": summary.kind,
        SOURCE: summary.source,
        SOURCE_FILE: summary.file,
        FILE_PATH: summary.path,
        SHA256: sha256,
        "rows_read": summary.read,
        "rows_loaded": summary.loaded,
        "rows_new": summary.new,
        "rows_updated": summary.updated,
        "rows_quarantined": summary.quarantined,
        INGESTED_AT: now,
    }
    log = engine.from_arrow(arrow_rows([row], INGEST_LOG), "_ingest_log_row")
    if engine.has_table(INGEST_LOG.name):
        old = engine.table(INGEST_LOG.name)
        if FILE_PATH not in old.columns:  # a log written before files had an identity
            old = old.mutate(**{FILE_PATH: old[SOURCE_FILE]})
        log = conform(old, INGEST_LOG).union(conform(log, INGEST_LOG))
    engine.write(INGEST_LOG.name, log, stage="ingest")
