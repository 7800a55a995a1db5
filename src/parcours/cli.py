"""The ``parcours`` command: one thin command per stage.

``main`` is the only place that turns errors into exit codes: 2 for the user's input, 1 for
anything else.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from datetime import datetime
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
AsOfOpt = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Analysis date (YYYY-MM-DD); default: the day of the last order.",
    ),
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
    from parcours.terminal import show
    from parcours.views.quality import ingest_view

    show(ingest_view(report))
    if report.failures or any(f.quarantined for f in report.files):
        raise typer.Exit(2)


@app.command()
def run(as_of: AsOfOpt = None, workspace: WorkspaceOpt = Path(".")) -> None:
    """Run every stage over what is ingested; a stage whose inputs are missing is skipped."""
    from parcours.pipeline import run as run_pipeline

    with Workspace.open(workspace) as ws:
        run_pipeline(ws, as_of.date() if as_of else None)


def _run_stage(workspace: Path, name: str, as_of: datetime | None = None, **options) -> None:
    from parcours.pipeline import run_stage

    with Workspace.open(workspace) as ws:
        run_stage(ws, name, as_of.date() if as_of else None, **options)


@app.command()
def resolve(
    full: Annotated[
        bool, typer.Option("--full", help="Retrain the matching model and rescore every pair.")
    ] = False,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Resolve customer records to persons: golden records and keyed facts."""
    _run_stage(workspace, "resolve", full=full)


identity_app = typer.Typer(help="An analyst's identity decisions, honoured by the next resolve.")
app.add_typer(identity_app, name="identity")


RecordArg = Annotated[str, typer.Argument(help="SOURCE:ID of a customer record.")]
NoteOpt = Annotated[str, typer.Option(help="Why.")]


def _decide(decision: str, record: str, other: str, note: str, workspace: Path) -> None:
    from parcours.identity.overrides import add_override

    o = add_override(Workspace.open(workspace).dir, decision, record, other, note)
    outcome = "be one person" if decision == "same" else "be kept apart"
    console.out.print(f"{o.record} and {o.other} will {outcome} at the next resolve")


@identity_app.command("same")
def identity_same(
    record: RecordArg, other: RecordArg, note: NoteOpt = "", workspace: WorkspaceOpt = Path(".")
) -> None:
    """Force two records to be one person."""
    _decide("same", record, other, note, workspace)


@identity_app.command("different")
def identity_different(
    record: RecordArg, other: RecordArg, note: NoteOpt = "", workspace: WorkspaceOpt = Path(".")
) -> None:
    """Declare two records different people (undo a merge)."""
    _decide("different", record, other, note, workspace)


@app.command()
def clv(
    as_of: AsOfOpt = None,
    holdout_days: Annotated[
        int | None,
        typer.Option(
            min=0, help="Days held out to evaluate the model (default clv.holdout_days; 0: none)."
        ),
    ] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Predict purchases, P(alive), next purchase, spend, CLV and churn risk per customer."""
    _run_stage(workspace, "clv", as_of, holdout_days=holdout_days)


@app.command()
def profile(as_of: AsOfOpt = None, workspace: WorkspaceOpt = Path(".")) -> None:
    """Build the customer profile: one row per person as of a date."""
    _run_stage(workspace, "profile", as_of)


@app.command()
def kpis(workspace: WorkspaceOpt = Path(".")) -> None:
    """Compute the customer KPIs from the profile: segments, delays, renewal, cohorts."""
    _run_stage(workspace, "kpis")


@app.command()
def segments(workspace: WorkspaceOpt = Path(".")) -> None:
    """Add RFM and lifecycle segments to the profile and print their KPIs."""
    _run_stage(workspace, "segments")


@app.command()
def personas(workspace: WorkspaceOpt = Path(".")) -> None:
    """Cluster customers into data-driven personas and print their cards."""
    _run_stage(workspace, "personas")


@app.command()
def journeys(
    customer: Annotated[
        str | None, typer.Option(help="Show this person's timeline (customer_key or anonymous id).")
    ] = None,
    funnel: Annotated[str | None, typer.Option(help="Funnel to print (journeys.funnels).")] = None,
    from_: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day of funnel entries."),
    ] = None,
    to: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Day after the last day of funnel entries."),
    ] = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Map customer journeys: timelines, funnels, paths, friction points, moments of truth."""
    from parcours.journeys import timeline
    from parcours.pipeline import run_stage
    from parcours.terminal import show
    from parcours.views.journeys import timeline_view

    with Workspace.open(workspace) as ws:
        if customer is not None:
            show(timeline_view(timeline(ws, customer), customer))
            return
        if funnel is not None and funnel not in ws.config.journeys.funnels:
            raise UserInputError(
                f"unknown funnel {funnel!r}",
                hint=f"funnels of journeys.funnels: {', '.join(ws.config.journeys.funnels)}",
            )
        if from_ and to and from_ >= to:
            raise UserInputError("--from must be before --to", hint="dates are YYYY-MM-DD")
        run_stage(
            ws,
            "journeys",
            as_of.date() if as_of else None,
            start=from_,
            end=to,
            funnel=funnel,
        )


@app.command()
def monitor(
    list_: Annotated[
        bool, typer.Option("--list", help="List the incidents found, without recomputing.")
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="With --list: incidents ending on or after."),
    ] = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Follow KPIs against seasonal baselines: explained incidents, abnormal customers, alerts."""
    if not list_:
        if since is not None:
            raise UserInputError(
                "--since goes with --list", hint="parcours monitor --list --since DATE"
            )
        _run_stage(workspace, "monitor", as_of)
        return
    from parcours.monitor import list_incidents
    from parcours.terminal import show
    from parcours.views.monitoring import incidents_view

    with Workspace.open(workspace) as ws:
        found = list_incidents(ws, since.date() if since else None)
    show(incidents_view(found))


plan_app = typer.Typer(help="CRM plans: scenarios timed by the data, under one contact policy.")
app.add_typer(plan_app, name="plan")


@plan_app.command("list")
def plan_list(workspace: WorkspaceOpt = Path(".")) -> None:
    """The plans of parcours.yaml: trigger, audience, channel, priority, cooldown, holdout."""
    from parcours.terminal import show
    from parcours.views.activation import plan_list_view

    with Workspace.open(workspace) as ws:
        show(plan_list_view(ws.config.plans))


@plan_app.command("preview")
def plan_preview(as_of: AsOfOpt = None, workspace: WorkspaceOpt = Path(".")) -> None:
    """Who would get what and why, with a sample of rendered messages; writes nothing."""
    from parcours.activation import preview_plans
    from parcours.terminal import show
    from parcours.views.activation import plan_run_view

    with Workspace.open(workspace) as ws:
        show(plan_run_view(preview_plans(ws, as_of.date() if as_of else None), preview=True))


@plan_app.command("run")
def plan_run(
    as_of: AsOfOpt = None,
    send: Annotated[bool, typer.Option("--send", help="Deliver the actions that are due.")] = False,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Decide the day's CRM actions and journal them in crm_actions; --send delivers them."""
    from parcours.activation import run_plans
    from parcours.terminal import show
    from parcours.views.activation import plan_run_view

    with Workspace.open(workspace) as ws:
        show(plan_run_view(run_plans(ws, as_of.date() if as_of else None, send=send)))


@plan_app.command("evaluate")
def plan_evaluate(workspace: WorkspaceOpt = Path(".")) -> None:
    """Each plan's treated and holdout conversion, uplift with its 95% interval, revenue."""
    from parcours.activation.evaluate import evaluate_plans
    from parcours.terminal import show
    from parcours.views.activation import evaluation_view

    with Workspace.open(workspace) as ws:
        show(evaluation_view(evaluate_plans(ws)))


@app.command()
def report(
    lang: Annotated[Literal["en", "fr"], typer.Option(help="Language of the report.")] = "en",
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file to write (default: report.html in the workspace)."),
    ] = None,
    as_of: AsOfOpt = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Write the customer-knowledge report: one HTML file that opens offline.

    With --as-of, the pipeline first runs as of that date, as parcours run --as-of does.
    """
    from parcours.report import write_report

    with Workspace.open(workspace) as ws:
        path = write_report(ws, out, lang, as_of.date() if as_of else None)
    console.out.print(f"report: {path}", markup=False, soft_wrap=True)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query.")],
    format: FormatOpt = "table",
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 1000,
    allow_external: Annotated[
        bool,
        typer.Option(
            "--allow-external",
            help="Let the query read files, URLs and extensions outside the workspace.",
        ),
    ] = False,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Answer a query, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN on the workspace; no writes."""
    from parcours.engine import Engine

    ws = Workspace.open(workspace)
    engine = Engine.connect(ws.config, ws.dir, read_only=True, allow_external=allow_external)
    try:
        result = engine.query(query, limit or None)
    finally:
        engine.close()
    if engine.snapshot_of:
        console.err.print(
            f"note: the workspace is in use by {engine.snapshot_of}; "
            "this answer is its state when that command started",
            soft_wrap=True,
        )
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
    engine: Annotated[
        Literal["duckdb", "spark"], typer.Option(help="Engine of the demo workspace.")
    ] = "duckdb",
    workspace: WorkspaceOpt = Path("parcours-demo"),
) -> None:
    """Generate a synthetic omnichannel retailer, ingest it and run the whole pipeline."""
    from parcours.demo.run import run_demo

    run_demo(workspace, customers=customers, seed=seed, engine=engine)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Serve event collection (Segment-compatible), profiles and audiences over HTTP."""
    import uvicorn

    from parcours.api import create_app

    uvicorn.run(create_app(Workspace.open(workspace)), host=host, port=port, log_level="warning")


keys_app = typer.Typer(help="API keys of the service, one per source and scope.")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    source: Annotated[str, typer.Option(help="Source the events are ingested as.")],
    scope: Annotated[
        Literal["write", "read", "admin"],
        typer.Option(help="write: send events; read: profiles and audiences; admin: all."),
    ] = "write",
    channel: Annotated[
        Literal["web", "app"] | None, typer.Option(help="Sales channel of the source's orders.")
    ] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Create an API key; it is shown once and only its hash is kept."""
    from parcours.api.keys import create_key

    key, stored = create_key(Workspace.open(workspace).dir, source, scope, channel)
    console.out.print(key, soft_wrap=True)
    console.err.print(
        f"key {stored.key_id}... for source {stored.source}, scope {stored.scope}: "
        "keep it now, it is not stored",
        soft_wrap=True,
    )


privacy_app = typer.Typer(help="Privacy requests (GDPR) about one person.")
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("export")
def privacy_export(
    who: Annotated[str, typer.Argument(help="SOURCE:ID of one of the person's records, or email.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Print everything parcours holds about a person, from every table, as one JSON document."""
    from parcours.api.privacy import export, person_key
    from parcours.engine import Engine

    ws = Workspace.open(workspace)
    engine = Engine.connect(ws.config, ws.dir, read_only=True)
    try:
        document = export(engine, person_key(engine, who))
    finally:
        engine.close()

    def iso(value: object) -> str:  # dates as the HTTP route writes them
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    sys.stdout.write(json.dumps(document, default=iso, indent=1) + "\n")


@privacy_app.command("erase")
def privacy_erase(
    who: Annotated[str, typer.Argument(help="SOURCE:ID of one of the person's records, or email.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Erase a person from every table, the collection log and the workspace's files."""
    from parcours.api.paths import is_served
    from parcours.api.privacy import erase, person_key

    with Workspace.open(workspace) as ws:
        if is_served(ws.dir):
            raise UserInputError(
                "the workspace is served by parcours serve, which owns its collection log",
                hint="send the request to the server: POST /v1/privacy/CUSTOMER_KEY/erase",
            )
        done = erase(ws, person_key(ws.engine, who))
    removed = sum(done.rows.values())
    console.err.print(
        f"erased {done.customer_key}: {done.records} records, {removed} rows in "
        f"{len(done.rows)} tables, {done.orders_deidentified} orders de-identified, "
        f"{done.log_messages} collected messages; identifiers suppressed",
        soft_wrap=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 the user's input, 1 internal error)."""
    from parcours.snapshot import keep_for_readers

    keep_for_readers()
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
