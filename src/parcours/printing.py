"""What the ingest and resolve commands print; shared by the CLI, the pipeline and the demo."""

from __future__ import annotations

from parcours import console


def print_ingest_report(report) -> None:
    """Counts per file on stdout; quarantined examples and failures on stderr."""
    if report.files:
        console.table(
            None,
            ["file", "kind", "source", "read", "loaded", "new", "updated", "quarantined"],
            [
                (f.file, f.kind, f.source, f.read, f.loaded, f.new, f.updated, f.quarantined)
                for f in report.files
            ],
        )
    for f in report.files:
        for field, finding, rows, example in f.findings:
            console.warn(
                f"{f.file}: {field}: {rows} values set to null ({finding}, e.g. {example!r})"
            )
        if f.duplicates:
            console.warn(
                f"{f.file}: {f.duplicates} ids on several rows with different values, the last "
                f"row kept (e.g. {'; '.join(f.duplicate_examples)})"
            )
        if f.ignored_columns:
            console.warn(f"{f.file}: columns not used: {', '.join(f.ignored_columns)}")
        for problem in f.examples:
            console.err.print(str(problem), markup=False, soft_wrap=True)
        if f.quarantined:
            console.err.print(
                f"{f.file}: {f.quarantined} rows quarantined, {f.loaded} loaded; "
                'hint: parcours sql "select * from quarantine" lists every reason',
                markup=False,
                soft_wrap=True,
            )
    for failure in report.failures:
        console.error(str(failure.problem))


def print_resolve(summary) -> None:
    """The identity summary: persons, how records joined, sizes, what was held apart."""
    console.out.print(
        f"{summary.records:,} records -> {summary.persons:,} persons ({summary.scored})"
    )
    match = summary.match
    if match.threshold is not None:
        console.out.print(
            f"match threshold {match.threshold:.3f} ({match.threshold_reason}); estimated "
            f"precision {match.estimated_precision:.3f}, recall {match.estimated_recall:.3f}"
        )
    if match.compared:
        console.out.print(f"compared: {', '.join(match.compared)}")
    if match.blocking:
        missed = (
            f"; estimated share of true pairs no rule compares: {match.unblocked_share:.1%}"
            if match.unblocked_share is not None
            else ""
        )
        console.out.print(f"pairs compared when equal on: {'; '.join(match.blocking)}{missed}")
    for line in match.training:
        console.out.print(f"training: {line}")
    for line in match.priors:
        console.warn(f"prior used, too little data to estimate: {line}")
    console.table(
        "Records by how they joined their person",
        ["method", "records"],
        list(summary.joined_by.items()),
    )
    console.table("Persons by number of records", ["records", "persons"], summary.cluster_sizes)
    if summary.changes:
        console.table("Key changes", ["change", "keys"], list(summary.changes.items()))
    console.table(
        "Records per source",
        ["source", "records", "no email, phone or card", "no full name"],
        summary.quality,
    )
    for line in summary.overrides:
        console.out.print(f"override honoured: {line}")
    for item in summary.review:
        console.warn(
            f"held apart for review: {item.subject} ({item.records} records): {item.reason}"
        )
    for reason, values in summary.shared_identifiers:
        console.warn(
            f"{values} values not used to join records: {reason}; "
            'hint: parcours sql "select * from identity_review"'
        )
