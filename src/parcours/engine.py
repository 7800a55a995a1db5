"""The one place that knows which engine runs: DuckDB (default) or Spark, through Ibis.

Stage code receives Ibis tables and returns Ibis expressions; reading, writing (write, then
swap) and the few engine-specific functions live here.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import sqlglot
from sqlglot import exp

from parcours.config import Config
from parcours.errors import EngineError, UserInputError
from parcours.schema import TableSpec

log = logging.getLogger(__name__)

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
    """

    def __init__(self, backend: Any, tables_dir: Path | None = None, session: Any = None) -> None:
        self.con = backend
        self.name: str = backend.name
        self.tables_dir = tables_dir
        self.session = session
        if self.name == "pyspark":
            self._register_spark_tables()

    # -- connecting ---------------------------------------------------------------------
    @classmethod
    def connect(cls, config: Config, workspace_dir: Path, *, read_only: bool = False) -> Engine:
        """Open the engine the config names; ``read_only`` makes DuckDB refuse any write."""
        if config.engine == "duckdb":
            path = workspace_dir / config.database
            if read_only and not path.exists():
                return cls(ibis.duckdb.connect())  # nothing ingested yet: an empty warehouse
            try:
                return cls(ibis.duckdb.connect(str(path), read_only=read_only))
            except Exception as e:  # duckdb raises IOException for a locked or corrupt file
                raise EngineError(f"opening {path.name}: {e}") from e
        session = spark_session(config, log_dir=workspace_dir / "logs")
        return cls(ibis.pyspark.connect(session), workspace_dir / "spark-tables", session)

    def close(self) -> None:
        if self.name == "duckdb":
            self.con.disconnect()

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

    # -- writing: one writer, write then swap ---------------------------------------------
    def write(self, name: str, expr: ibis.Table, *, stage: str) -> None:
        """Replace table ``name`` by ``expr``; the old table stays intact if writing fails."""
        try:
            if self.name == "duckdb":
                self._write_duckdb(name, expr)
            else:
                self._write_spark(name, expr)
        except Exception as e:
            log.debug("failed SQL for %s.%s:\n%s", stage, name, ibis.to_sql(expr))
            raise EngineError(f"{stage}: writing {name}: {e}") from e

    def _write_duckdb(self, name: str, expr: ibis.Table) -> None:
        tmp = f"{name}__new"
        self.con.create_table(tmp, expr, overwrite=True)
        self.con.raw_sql(
            f'BEGIN; DROP TABLE IF EXISTS "{name}"; ALTER TABLE "{tmp}" RENAME TO "{name}"; COMMIT;'
        )

    def _write_spark(self, name: str, expr: ibis.Table) -> None:
        assert self.tables_dir is not None
        final = self.tables_dir / name
        tmp = self.tables_dir / f"{name}.new"
        old = self.tables_dir / f"{name}.old"
        shutil.rmtree(tmp, ignore_errors=True)
        # Compiled SQL runs outside Ibis: register the in-memory tables it names first.
        self.con._run_pre_execute_hooks(expr)
        self.session.sql(self.con.compile(expr)).write.parquet(str(tmp))
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        self.con.read_parquet(str(final), table_name=name)

    def _register_spark_tables(self) -> None:
        assert self.tables_dir is not None
        # A Spark session outlives workspaces: forget the views another workspace registered.
        for name in self.con.list_tables():
            self.con.drop_view(name, force=True)
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        for folder in sorted(self.tables_dir.iterdir()):
            if folder.is_dir() and "." not in folder.name:
                self.con.read_parquet(str(folder), table_name=folder.name)

    def drop(self, name: str) -> None:
        if self.name == "duckdb":
            self.con.drop_table(name, force=True)
        else:
            self.forget(name)
            if self.tables_dir is not None:
                shutil.rmtree(self.tables_dir / name, ignore_errors=True)

    # -- read-only SQL --------------------------------------------------------------------
    def query(self, sql: str) -> ibis.Table:
        """Run a read-only query; anything that could write is refused before it runs."""
        dialect = "duckdb" if self.name == "duckdb" else "spark"
        try:
            statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
        except sqlglot.errors.ParseError as e:
            raise UserInputError(f"SQL does not parse: {str(e).splitlines()[0]}") from None
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            raise UserInputError(
                "only one read-only query (SELECT, WITH ... SELECT) is allowed",
                hint="parcours sql reads the workspace; stages write it",
            )
        try:
            return self.con.sql(sql)
        except Exception as e:
            raise UserInputError(f"query failed: {str(e).splitlines()[0]}") from None

    # -- engine-specific functions, as named capabilities ---------------------------------
    def parse_timestamp(self, text: ibis.StringValue, strftime_format: str) -> ibis.Value:
        """Parse ``text`` with a strftime format; null when it does not match."""
        if self.name == "duckdb":
            return _try_strptime(text, strftime_format)
        return _try_to_timestamp(text, spark_pattern(strftime_format))

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
    for key, value in [*settings.conf.items(), *extra]:
        builder = builder.config(key, value)
    if log_dir is not None and not settings.log_console:
        _python_side_to_file(log_dir / "spark.log")
    running = SparkSession.getActiveSession()
    session = builder.getOrCreate()
    if log_dir is not None and running is None:
        session.sparkContext.setLogLevel(settings.log_level)
    return session
