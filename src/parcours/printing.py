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
    for subject, reason, records in summary.review:
        console.warn(f"held apart for review: {subject} ({records} records): {reason}")
    for reason, values in summary.shared_identifiers:
        console.warn(
            f"{values} values not used to join records: {reason}; "
            'hint: parcours sql "select * from identity_review"'
        )
