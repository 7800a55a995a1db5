"""The one place that knows which engine runs: DuckDB (default) or Spark, through Ibis.

Stage code receives Ibis tables and returns Ibis expressions; reading, writing (write, then
swap) and the few engine-specific functions live here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from parcours.config import Config
from parcours.errors import EngineError, UserInputError
from parcours.lock import WorkspaceLock
from parcours.schema import TableSpec
from parcours.snapshot import refresh as refresh_snapshot
from parcours.snapshot import snapshot_path

log = logging.getLogger(__name__)

# What a command makes for its own use and removes before it ends; a killed command leaves
# them behind, and the next writer clears them.
STAGING_PREFIX = "parcours-ingest-"
NEW_SUFFIX = "__new"
WORK_TABLE_PREFIXES = (
    "ibis_duckdb_table_",
    "ibis_read_parquet_",
    "_checked_",
    "_staged_",
    "identity_work_",
)
SWAP_JOURNAL = "_swap.json"

# DuckDB settings for connections that run the user's SQL: no files, network or extensions
# beyond the workspace's own tables.
SAFE_DUCKDB = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def is_work_table(name: str) -> bool:
    """Whether ``name`` is a table a command makes for itself (see WORK_TABLE_PREFIXES)."""
    return name.startswith(WORK_TABLE_PREFIXES) or name.endswith(NEW_SUFFIX)


_READS = (exp.Query, exp.Describe, exp.Summarize, exp.Show)
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Copy)


def read_only_statement(sql: str, dialect: str) -> str:
    """``sql`` cut to its one statement if that statement only reads, else UserInputError.

    Reads are queries, DESCRIBE, SHOW, SUMMARIZE and EXPLAIN of a query; a trailing ``;``
    and comments after it are dropped.
    """
    refused = UserInputError(
        "only one read-only statement (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) "
        "is allowed",
        hint="parcours sql reads the workspace; stages write it",
    )
    quiet = logging.getLogger("sqlglot")
    level, quiet.level = quiet.level, logging.ERROR  # no "falling back to Command" notes
    try:
        statements = [
            s
            for s in sqlglot.parse(sql, read=dialect)
            if s is not None and not isinstance(s, exp.Semicolon)
        ]
        tokens = sqlglot.tokenize(sql, read=dialect)
    except sqlglot.errors.SqlglotError as e:
        raise UserInputError(f"SQL does not parse: {str(e).splitlines()[0]}") from None
    finally:
        quiet.level = level
    if len(statements) != 1:
        raise refused
    statement = statements[0]
    if isinstance(statement, exp.Command):
        keyword = str(statement.this).upper()
        rest = statement.args.get("expression") or ""
        rest = rest if isinstance(rest, str) else rest.name
        if keyword == "EXPLAIN":
            inner = rest.strip()
            if inner.upper().startswith("ANALYZE"):
                inner = inner[len("ANALYZE") :]
            read_only_statement(inner, dialect)
        elif keyword not in ("SHOW", "DESCRIBE", "DESC"):
            raise refused
    elif not isinstance(statement, _READS) or statement.find(*_WRITES):
        raise refused
    end = next((t.start for t in tokens if t.token_type == TokenType.SEMICOLON), len(sql))
    return sql[:end]


IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.string,
    "json": dt.string,  # JSON text: portable across engines and file formats
    "float64": dt.float64,
    "int64": dt.int64,
    "boolean": dt.boolean,
    "timestamp": dt.Timestamp(scale=6),  # microseconds, as DuckDB, Spark and Parquet keep them
    "date": dt.date,
}

# strftime directives -> Spark datetime patterns, for the formats users write in config.
_SPARK_PATTERNS = {
    "%d": "dd",
    "%m": "MM",
    "%Y": "yyyy",
    "%y": "yy",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
    "%f": "SSSSSS",
    "%b": "MMM",
    "%B": "MMMM",
    "%j": "DDD",
    "%p": "a",
    "%I": "hh",
    "%z": "Z",
    "%%": "%",
}


def ibis_schema(spec: TableSpec) -> ibis.Schema:
    """The Ibis schema of a canonical table."""
    return ibis.schema({c.name: IBIS_TYPES[c.dtype] for c in spec.columns})


def conform(table: ibis.Table, spec: TableSpec) -> ibis.Table:
    """``table``'s columns of ``spec``, in order, cast to the canonical types."""
    return table.select(**{n: table[n].cast(t) for n, t in ibis_schema(spec).items()})


def arrow_rows(rows: list[dict[str, Any]], spec: TableSpec) -> pa.Table:
    """Python rows as an Arrow table with the canonical schema of ``spec``."""
    return pa.Table.from_pylist(rows, schema=ibis_schema(spec).to_pyarrow())


def spark_pattern(strftime_format: str) -> str:
    """Translate a strftime format (``%d/%m/%Y``) into a Spark pattern (``dd/MM/yyyy``)."""
    out, i = [], 0
    while i < len(strftime_format):
        token = strftime_format[i : i + 2]
        if token in _SPARK_PATTERNS:
            out.append(_SPARK_PATTERNS[token])
            i += 2
        else:
            ch = strftime_format[i]
            out.append(f"'{ch}'" if ch.isalpha() else ch)
            i += 1
    return "".join(out)


class Engine:
    """A connection to the workspace's warehouse.

    Parameters
    ----------
    backend
        A connected Ibis backend (DuckDB or PySpark).
    tables_dir
        Spark only: where tables are kept as Parquet folders between sessions.
    lock
        The workspace's write lock, released by :meth:`close`.
    """

    def __init__(
        self,
        backend: Any,
        tables_dir: Path | None = None,
        session: Any = None,
        lock: WorkspaceLock | None = None,
    ) -> None:
        self.con = backend
        self.name: str = backend.name
        self.tables_dir = tables_dir
        self.session = session
        self.lock = lock
        # Read-only engines: the command writing the warehouse when it answers from the
        # read snapshot instead (see snapshot.py), else None.
        self.snapshot_of: str | None = None
        self.database: Path | None = None  # DuckDB: the database file
        self._batch_depth = 0
        # Spark: tables written in the open batch (name -> new folder) and dropped by it.
        self._pending: dict[str, Path] = {}
        self._dropped: set[str] = set()
        self._serial = 0
        if self.name == "pyspark":
            self._register_spark_tables(recover=lock is not None)

    # -- connecting ---------------------------------------------------------------------
    @classmethod
    def connect(
        cls,
        config: Config,
        workspace_dir: Path,
        *,
        read_only: bool = False,
        allow_external: bool = False,
        snapshot: bool = True,
    ) -> Engine:
        """Open the engine the config names; ``read_only`` makes it refuse any write.

        A read-only engine answers the user's SQL: it reads no file, network or extension
        beyond the workspace's tables unless ``allow_external``. A writer takes the
        workspace's lock and clears what a killed command left behind. While a command
        writes the warehouse, a reader gets its read snapshot unless ``snapshot`` is False.
        """
        sandbox = read_only and not allow_external
        if config.engine == "duckdb":
            path = workspace_dir / config.database
            lock = WorkspaceLock(path.with_name(path.name + ".lock"))
            settings = SAFE_DUCKDB if sandbox else {}
            if read_only and not path.exists():
                return cls(ibis.duckdb.connect(**settings))  # nothing ingested yet
            holder = lock.holder() if read_only and snapshot else None
            if holder and not lock.held_by_service() and snapshot_path(path).exists():
                # A command writes the warehouse: read its state when the command started.
                engine = cls(
                    ibis.duckdb.connect(str(snapshot_path(path)), read_only=True, **settings)
                )
                engine.snapshot_of = holder
                return engine
            # The server opens the file only for short turns: a command waits for them.
            wait = config.service.cli_wait_seconds
            if not read_only:
                lock.acquire(wait_for_service=wait)
                if not lock.is_service():
                    refresh_snapshot(path)
            deadline = time.monotonic() + wait
            while True:
                try:
                    backend = ibis.duckdb.connect(str(path), read_only=read_only, **settings)
                    break
                except Exception as e:  # duckdb raises IOException for a locked or corrupt file
                    if "lock" in str(e).lower():
                        if time.monotonic() < deadline and lock.held_by_service():
                            time.sleep(0.05)
                            continue
                        lock.release()
                        raise lock.locked_error(str(e).splitlines()[0]) from None
                    lock.release()
                    raise EngineError(f"opening {path.name}: {e}") from e
            engine = cls(backend, lock=None if read_only else lock)
            engine.database = path
        else:
            lock = WorkspaceLock(workspace_dir / "spark-tables.lock")
            if not read_only:
                lock.acquire()
            session = spark_session(config, log_dir=workspace_dir / "logs")
            # Spark's counterpart of DuckDB's enable_external_access: no SELECT from a path.
            session.conf.set("spark.sql.runSQLOnFiles", "false" if sandbox else "true")
            engine = cls(
                ibis.pyspark.connect(session),
                workspace_dir / "spark-tables",
                session,
                None if read_only else lock,
            )
        if not read_only:
            engine._clear_leftovers(workspace_dir)
        return engine

    def close(self) -> None:
        if self.name == "duckdb":
            self.con.disconnect()
        if self.lock is not None:
            if self.database is not None and not self.lock.is_service():
                refresh_snapshot(self.database)  # readers of the next command see this one's work
            self.lock.release()
            self.lock = None

    def compact(self) -> None:
        """Rewrite the database into a new file and swap it in, keeping the connection usable.

        DuckDB reuses freed blocks but does not wipe them, so deleted values stay in the
        file until overwritten; a copy holds only the live data. Spark rewrites whole table
        folders, which holds nothing deleted: nothing to do there.
        """
        if self.name != "duckdb":
            return
        name, path = self.con.raw_sql(
            "SELECT database_name, path FROM duckdb_databases() "
            "WHERE database_name = current_database()"
        ).fetchone()
        if not path:  # in memory
            return
        path = Path(path)
        new = path.with_name(path.name + ".compact")
        new.unlink(missing_ok=True)
        self.con.raw_sql(f"CHECKPOINT; ATTACH '{new}' AS _compact")
        self.con.raw_sql(f'COPY FROM DATABASE "{name}" TO _compact; DETACH _compact')
        self.con.disconnect()
        os.replace(new, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.con = ibis.duckdb.connect(str(path))

    def _clear_leftovers(self, workspace_dir: Path) -> None:
        """Drop the staging folders and work tables a killed command could not remove."""
        for folder in workspace_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(folder, ignore_errors=True)
        if self.name == "duckdb":  # Spark's are folders, cleared in _register_spark_tables
            self._drop_work_tables()

    def _drop_work_tables(self) -> None:
        rows = self.con.raw_sql(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main'"
        ).fetchall()
        for name, kind in rows:
            if is_work_table(name):
                what = "VIEW" if kind == "VIEW" else "TABLE"
                self.con.raw_sql(f'DROP {what} IF EXISTS "{name}"')

    # -- reading ------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def table(self, name: str) -> ibis.Table:
        if not self.has_table(name):
            raise UserInputError(
                f"table {name} does not exist yet",
                hint="ingest data first (parcours ingest KIND FILE) or run the stage that makes it",
            )
        return self.con.table(name)

    def read_parquet(self, path: Path, name: str) -> ibis.Table:
        """Expose a Parquet file (a staging file of ingestion) as a view; see ``forget``."""
        return self.con.read_parquet(str(path), table_name=name)

    def forget(self, name: str) -> None:
        """Drop a view made by ``read_parquet``."""
        self.con.drop_view(name, force=True)

    def from_arrow(self, data: pa.Table, name: str) -> ibis.Table:
        """Small Python-side rows (a summary, a log line) as a table of the engine."""
        if self.name == "duckdb":
            return ibis.memtable(data)
        # Not ibis.memtable: on Spark it goes through pandas, which turns null text into 'NaN'.
        self.session.createDataFrame(data).createOrReplaceTempView(name)
        return self.con.table(name)

    def execute(self, expr: ibis.Expr) -> Any:
        return self.con.execute(expr)

    def to_pyarrow(self, expr: ibis.Table):
        return self.con.to_pyarrow(expr)

    # -- writing: one writer, write then swap, batches commit together --------------------
    def batch(self) -> AbstractContextManager[None]:
        """Every table written or dropped inside commits together at the end, or none does.

        Reads inside the batch see its writes. On DuckDB the batch is one transaction; on
        Spark new tables go to new folders that a journaled swap puts in place at the end, so
        a kill at any moment leaves the tables of before or of after. Nested batches join the
        outermost one, and work tables (see ``is_work_table``) left at its end are dropped.
        """
        return self._batch(sweep=True)

    @contextmanager
    def _batch(self, *, sweep: bool) -> Iterator[None]:
        if self._batch_depth:
            self._batch_depth += 1
            try:
                yield
            finally:
                self._batch_depth -= 1
            return
        self._begin()
        self._batch_depth = 1
        try:
            yield
        except BaseException:
            self._batch_depth = 0
            self._rollback()
            raise
        self._batch_depth = 0
        self._commit(sweep)

    def _begin(self) -> None:
        if self.name == "duckdb":
            self.con.raw_sql("BEGIN TRANSACTION")

    def _commit(self, sweep: bool) -> None:
        # Work tables a stage forgot to drop are never committed by a batch.
        if self.name == "duckdb":
            if sweep:
                self._drop_work_tables()
            self.con.raw_sql("COMMIT")
            return
        assert self.tables_dir is not None
        for name in [n for n in self._pending if sweep and is_work_table(n)]:
            self.forget(name)
            shutil.rmtree(self._pending.pop(name), ignore_errors=True)
        journal = self.tables_dir / SWAP_JOURNAL
        plan = {
            "swap": {name: folder.name for name, folder in self._pending.items()},
            "drop": sorted(self._dropped - set(self._pending)),
        }
        self._pending, self._dropped = {}, set()
        if not plan["swap"] and not plan["drop"]:
            return
        staged = journal.with_name(journal.name + ".tmp")
        staged.write_text(json.dumps(plan), encoding="utf-8")
        staged.replace(journal)  # the commit point: from here the swap is rolled forward
        self._apply_journal()
        for name in plan["swap"]:
            self.con.read_parquet(str(self.tables_dir / name), table_name=name)

    def _rollback(self) -> None:
        if self.name == "duckdb":
            self.con.raw_sql("ROLLBACK")
            return
        assert self.tables_dir is not None
        touched = set(self._pending) | self._dropped
        for folder in self._pending.values():
            shutil.rmtree(folder, ignore_errors=True)
        self._pending, self._dropped = {}, set()
        for name in touched:  # back to the committed tables
            self.forget(name)
            if (self.tables_dir / name).is_dir():
                self.con.read_parquet(str(self.tables_dir / name), table_name=name)

    def _apply_journal(self) -> None:
        """Put a committed Spark batch in place; safe to repeat after a kill half-way."""
        assert self.tables_dir is not None
        journal = self.tables_dir / SWAP_JOURNAL
        plan = json.loads(journal.read_text(encoding="utf-8"))
        for name, folder in plan["swap"].items():
            new = self.tables_dir / folder
            if new.is_dir():  # not yet moved in place
                shutil.rmtree(self.tables_dir / name, ignore_errors=True)
                new.rename(self.tables_dir / name)
        for name in plan["drop"]:
            shutil.rmtree(self.tables_dir / name, ignore_errors=True)
        journal.unlink()

    def create_missing(self, specs: Sequence[TableSpec]) -> None:
        """Create each table of ``specs`` that does not exist yet, empty."""
        with self.batch():
            for spec in specs:
                if not self.has_table(spec.name):
                    empty = self.from_arrow(arrow_rows([], spec), f"_empty_{spec.name}")
                    self.write(spec.name, conform(empty, spec), stage="init")

    def write(self, name: str, expr: ibis.Table, *, stage: str) -> None:
        """Replace table ``name`` by ``expr``; the old table stays intact if writing fails."""
        try:
            with self._batch(sweep=False):
                if self.name == "duckdb":
                    self._write_duckdb(name, expr)
                else:
                    self._write_spark(name, expr)
        except Exception as e:
            log.debug("failed SQL for %s.%s:\n%s", stage, name, ibis.to_sql(expr))
            raise EngineError(f"{stage}: writing {name}: {e}") from e

    def _write_duckdb(self, name: str, expr: ibis.Table) -> None:
        # Inside the batch's transaction: the new table replaces the old one at commit only.
        tmp = f"{name}{NEW_SUFFIX}"
        self.con.drop_table(tmp, force=True)
        self.con.create_table(tmp, expr)
        self.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"; ALTER TABLE "{tmp}" RENAME TO "{name}"')

    def _write_spark(self, name: str, expr: ibis.Table) -> None:
        assert self.tables_dir is not None
        self._serial += 1
        # A fresh folder each time: ``expr`` may read the batch's previous version of ``name``.
        folder = self.tables_dir / f"{name}.new-{os.getpid()}-{self._serial}"
        # Compiled SQL runs outside Ibis: register the in-memory tables it names first.
        self.con._run_pre_execute_hooks(expr)
        self.session.sql(self.con.compile(expr)).write.parquet(str(folder))
        previous = self._pending.get(name)
        self._pending[name] = folder
        self._dropped.discard(name)
        self.con.read_parquet(str(folder), table_name=name)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)

    def _register_spark_tables(self, *, recover: bool) -> None:
        """Register every table folder as a view.

        A writer (``recover``) first completes or clears the batch a killed command left; a
        reader changes nothing and reads a committed swap's new folders.
        """
        assert self.tables_dir is not None
        # A Spark session outlives workspaces: forget the views another workspace registered.
        for name in self.con.list_tables():
            self.con.drop_view(name, force=True)
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        journal = self.tables_dir / SWAP_JOURNAL
        swapping: dict[str, str] = {}
        if journal.exists():
            if recover:
                self._apply_journal()  # a batch committed, then killed while swapping
            else:
                swapping = json.loads(journal.read_text(encoding="utf-8"))["swap"]
        for folder in sorted(self.tables_dir.iterdir()):
            if not folder.is_dir():
                continue
            if "." in folder.name or is_work_table(folder.name):  # never committed
                if recover:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            new = self.tables_dir / swapping.get(folder.name, folder.name)
            self.con.read_parquet(str(new if new.is_dir() else folder), table_name=folder.name)

    def replace_rows(
        self, name: str, old_rows: ibis.BooleanValue, new: ibis.Table, *, stage: str
    ) -> None:
        """Replace the rows of table ``name`` where ``old_rows`` holds by the rows of ``new``.

        On DuckDB only those rows are deleted and inserted, inside the batch's transaction: a
        live update of a few persons does not rewrite a large table. On Spark the table is
        rewritten, as by ``write``.
        """
        old = self.table(name)
        schema = old.schema()
        new = new.select(*[new[c].cast(schema[c]) for c in old.columns])
        gone = old_rows.fill_null(False)
        if self.name != "duckdb":
            self.write(name, old.filter(~gone).union(new), stage=stage)
            return
        rows, rids = f"_staged_{name}_rows", f"_staged_{name}_gone"
        with self._batch(sweep=False):
            # Both read the table: materialised before it changes.
            self.write(rows, new, stage=stage)
            marked = old.select(rid=old.rowid(), gone=gone)
            self.write(rids, marked.filter(marked.gone).select("rid"), stage=stage)
            try:
                self.con.raw_sql(f'DELETE FROM "{name}" WHERE rowid IN (SELECT rid FROM "{rids}")')
                self.con.raw_sql(f'INSERT INTO "{name}" SELECT * FROM "{rows}"')
            except Exception as e:
                raise EngineError(f"{stage}: replacing rows of {name}: {e}") from e
            self.drop(rows)
            self.drop(rids)

    def drop(self, name: str) -> None:
        if self.name == "duckdb":
            self.con.drop_table(name, force=True)
            return
        with self._batch(sweep=False):
            self.forget(name)
            folder = self._pending.pop(name, None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            self._dropped.add(name)

    # -- read-only SQL --------------------------------------------------------------------
    def query(self, sql: str, limit: int | None = None) -> pa.Table:
        """Answer one read-only statement (a query, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN).

        Anything that could write is refused before it runs; ``limit`` caps the rows.
        """
        dialect = "duckdb" if self.name == "duckdb" else "spark"
        text = read_only_statement(sql, dialect)
        try:
            if self.name == "duckdb":
                relation = self.con.con.sql(text)
                if limit:
                    relation = relation.limit(limit)
                return relation.to_arrow_table()
            frame = self.session.sql(text)
            return (frame.limit(limit) if limit else frame).toArrow()
        except Exception as e:
            raise UserInputError(f"query failed: {str(e).strip().splitlines()[0]}") from None

    # -- engine-specific functions, as named capabilities ---------------------------------
    def parse_timestamp(self, text: ibis.StringValue, strftime_format: str) -> ibis.Value:
        """Parse ``text`` with a strftime format; null when it does not match."""
        if self.name == "duckdb":
            return _try_strptime(text, strftime_format)
        return _try_to_timestamp(text, spark_pattern(strftime_format))

    def to_utc(self, local: ibis.TimestampValue, zone: str) -> ibis.TimestampValue:
        """Wall-clock times of ``zone`` (naive) as naive UTC times, daylight saving included."""
        if zone == "UTC":
            return local
        if self.name == "duckdb":
            # timezone(zone, naive) is the instant; timezone('UTC', instant) its UTC wall time.
            return _duckdb_naive_utc("UTC", _duckdb_instant(zone, local))
        return _spark_to_utc(local, zone)

    def json_text(self, text: ibis.StringValue, key: str) -> ibis.StringValue:
        """The value at ``key`` of a JSON object text, as text; null when absent or not JSON.

        The engines' own JSON functions, not Ibis' JSON type: on Spark that one runs a Python
        function per row.
        """
        path = f"$.{key}"
        if self.name == "duckdb":
            # json_extract_string raises on malformed text; such a row has no properties.
            return ibis.ifelse(_json_valid(text), _json_extract_string(text, path), None)
        return _get_json_object(text, path)

    def to_json(self, fields: dict[str, ibis.Value]) -> ibis.StringValue:
        """A JSON object text built from named string values (nulls kept as null)."""
        struct = ibis.struct(fields)
        fn = ibis.udf.scalar.builtin(
            lambda s: None, name="to_json", signature=((struct.type(),), dt.string)
        )
        return fn(struct)


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(text: str, fmt: str) -> dt.timestamp: ...


@ibis.udf.scalar.builtin(name="try_to_timestamp")
def _try_to_timestamp(text: str, fmt: str) -> dt.timestamp: ...


_NAIVE = dt.Timestamp(scale=6)
_INSTANT = dt.Timestamp(timezone="UTC", scale=6)
_duckdb_instant = ibis.udf.scalar.builtin(
    lambda zone, ts: None, name="timezone", signature=((dt.string, _NAIVE), _INSTANT)
)
_duckdb_naive_utc = ibis.udf.scalar.builtin(
    lambda zone, ts: None, name="timezone", signature=((dt.string, _INSTANT), _NAIVE)
)
_spark_to_utc = ibis.udf.scalar.builtin(
    lambda ts, zone: None, name="to_utc_timestamp", signature=((_NAIVE, dt.string), _NAIVE)
)


@ibis.udf.scalar.builtin(name="json_valid")
def _json_valid(text: str) -> bool: ...


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_extract_string(text: str, path: str) -> str: ...


@ibis.udf.scalar.builtin(name="get_json_object")
def _get_json_object(text: str, path: str) -> str: ...


_LOG4J = """status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = {file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yyyy-MM-dd HH:mm:ss}} %p %c{{1}}: %m%n%ex
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{HH:mm:ss}} %p %c{{1}}: %m%n%ex
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
"""


def spark_log_config(log_dir: Path, level: str, console: bool) -> Path:
    """Write the log4j2 settings that send Spark's messages to ``log_dir/spark.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    text = _LOG4J.format(file=(log_dir / "spark.log").resolve().as_posix(), level=level)
    if console:
        text += "rootLogger.appenderRef.console.ref = console\n"
    path = log_dir / "log4j2.properties"
    path.write_text(text, encoding="utf-8")
    return path


# PySpark's own Python loggers, which print a failed query's plan to the console as JSON.
_PYSPARK_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


def _python_side_to_file(path: Path) -> None:
    from pyspark.logger import PySparkLogger

    handler = logging.FileHandler(path, encoding="utf-8")
    for name in _PYSPARK_LOGGERS:
        logger = PySparkLogger.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
            old.close()
        logger.addHandler(handler)
        logger.propagate = False


def spark_session(
    config: Config, extra: Sequence[tuple[str, str]] = (), *, log_dir: Path | None = None
):
    """Build (or reuse) the Spark session the config describes.

    With ``log_dir``, Spark's own messages go to ``log_dir/spark.log`` rather than the console
    (``spark.log_console`` shows them too), at the level ``spark.log_level``.
    """
    from pyspark.sql import SparkSession

    settings = config.spark
    builder = (
        SparkSession.builder.appName("parcours")
        .master(settings.master)
        # The Spark UI is of no use to a batch CLI and several JVMs would fight for its port.
        .config("spark.ui.enabled", "false")
        # Progress bars of Spark stages would interleave with parcours' own output.
        .config("spark.ui.showConsoleProgress", str(settings.log_console).lower())
        # Timestamps are wall-clock times as written; a fixed zone keeps both engines equal.
        .config("spark.sql.session.timeZone", "UTC")
    )
    if log_dir is not None:
        log4j = spark_log_config(log_dir, settings.log_level, settings.log_console)
        # Read when the JVM starts; a session already running keeps its logging.
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j.resolve()}"
        )
    if settings.master.startswith("local") and "spark.sql.shuffle.partitions" not in settings.conf:
        # Spark's 200 shuffle tasks suit a cluster; on one machine each costs more than its work.
        builder = builder.config("spark.sql.shuffle.partitions", str(4 * (os.cpu_count() or 2)))
    for key, value in [*settings.conf.items(), *extra]:
        builder = builder.config(key, value)
    if log_dir is not None and not settings.log_console:
        _python_side_to_file(log_dir / "spark.log")
    running = SparkSession.getActiveSession()
    session = builder.getOrCreate()
    if log_dir is not None and running is None:
        session.sparkContext.setLogLevel(settings.log_level)
    return session
