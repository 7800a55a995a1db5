"""The ``parcours`` command: one thin command per stage.

``main`` is the only place that turns errors into exit codes: 2 for the user's input, 1 for
anything else.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Literal

import typer
from typer.exceptions import TyperException

from parcours import console
from parcours.errors import ConfigError, ParcoursError, UserInputError
from parcours.workspace import Workspace

app = typer.Typer(
    name="parcours",
    help="Customer data and customer-journey analytics for omnichannel retail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

WorkspaceOpt = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        envvar="PARCOURS_WORKSPACE",
        file_okay=False,
        help="Workspace folder (parcours.yaml and its data).",
    ),
]
FormatOpt = Annotated[
    Literal["table", "csv", "json"], typer.Option("--format", "-f", help="Output format.")
]


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create.")] = Path("."),
) -> None:
    """Create a workspace with a commented parcours.yaml."""
    ws = Workspace.init(directory)
    console.out.print(f"workspace ready: {ws.dir / 'parcours.yaml'}")


@app.command()
def ingest(
    kind: Annotated[
        str,
        typer.Argument(
            help="customers | orders | order-lines | events | consents | products | stores"
        ),
    ],
    paths: Annotated[list[Path], typer.Argument(help="CSV, Parquet or JSON-lines files.")],
    source: Annotated[str | None, typer.Option(help="Source name (sources.NAME).")] = None,
    mapping: Annotated[Path | None, typer.Option(help="Mapping file for this source.")] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Load files into the canonical tables; bad rows go to quarantine with their reasons."""
    from parcours.ingest import ingest_files
    from parcours.schema import input_table

    input_table(kind)
    with Workspace.open(workspace) as ws, console.file_progress() as progress:
        report = ingest_files(ws, kind, paths, source=source, mapping=mapping, progress=progress)
    print_ingest_report(report)
    if report.failures or any(f.quarantined for f in report.files):
        raise typer.Exit(2)


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


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query.")],
    format: FormatOpt = "table",
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 1000,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Answer a read-only query on the workspace; writes are refused."""
    from parcours.engine import Engine

    ws = Workspace.open(workspace)
    engine = Engine.connect(ws.config, ws.dir, read_only=True)
    try:
        expr = engine.query(query)
        result = engine.to_pyarrow(expr.limit(limit) if limit else expr)
    finally:
        engine.close()
    rows = result.to_pylist()
    if format == "json":
        console.out.print_json(json.dumps(rows, default=str))
    elif format == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.column_names)
        writer.writerows([list(r.values()) for r in rows])
    else:
        console.table(None, result.column_names, [list(r.values()) for r in rows])


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="Number of persons to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    workspace: WorkspaceOpt = Path("parcours-demo"),
) -> None:
    """Generate a synthetic omnichannel retailer, ingest it and print a summary."""
    from parcours.demo.run import run_demo

    run_demo(workspace, customers=customers, seed=seed)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 the user's input, 1 internal error)."""
    try:
        code = app(args=argv, prog_name="parcours", standalone_mode=False)
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        console.error("aborted")
        return 130
    except TyperException as e:  # usage errors: unknown option, missing argument
        e.show() if hasattr(e, "show") else console.error(e.format_message())
        return 2
    except ConfigError as e:
        console.error(str(e.problem.message), e.hint, e.problems if len(e.problems) > 1 else ())
        return 2
    except UserInputError as e:
        console.error(str(e.problem))
        return 2
    except ParcoursError as e:
        console.error(str(e.problem))
        return 1
    except Exception as e:
        if os.environ.get("PARCOURS_DEBUG"):
            traceback.print_exc()
        console.error(
            f"internal error: {type(e).__name__}: {e}; set PARCOURS_DEBUG=1 for the traceback"
        )
        return 1
    return code if isinstance(code, int) else 0
