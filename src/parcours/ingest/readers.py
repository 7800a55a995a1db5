"""Read CSV, Parquet and JSON-lines files into a staging Parquet file of text columns.

Files are streamed in blocks, so a file of any size is never held whole in memory. Every
value is kept as text; typing and validation happen afterwards, in the engine. Only
file-level failures raise (encoding, ragged rows, unreadable Parquet): row problems are data.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from parcours.config import SourceConfig
from parcours.errors import Problem, UserInputError

LINE = "__line"  # staging column: line of the row in its file
JSON_ERROR = "__json_error"  # staging column: why a JSON line could not be read
SAMPLE_BYTES = 1 << 16
BLOCK_BYTES = 32 << 20  # also the longest CSV row that can be read
BATCH_ROWS = 100_000

Progress = Callable[[int], None]  # called with the number of bytes just read

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_COMMA_DECIMAL = re.compile(r"^-?\d{1,3}(?:[ .\u00a0]?\d{3})*,\d+$")
_DOT_DECIMAL = re.compile(r"^-?\d{1,3}(?:[ ,]?\d{3})*\.\d+$")


@dataclass(frozen=True)
class Staged:
    """What a reader wrote: the staging file, its input columns, and the file's dialect."""

    path: Path
    columns: list[str]
    rows: int
    decimal: str


def file_format(path: Path, source: SourceConfig) -> str:
    if source.format != "auto":
        return source.format
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UserInputError(
            Problem(
                f"unknown file type '{path.suffix}'",
                file=path.name,
                hint="use .csv, .parquet or .jsonl, or set format in the source's config",
            )
        )
    return fmt


def stage_file(
    path: Path, source: SourceConfig, out: Path, progress: Progress | None = None
) -> Staged:
    """Read ``path`` into the staging Parquet file ``out``."""
    fmt = file_format(path, source)
    reader = {"csv": _stage_csv, "parquet": _stage_parquet, "jsonl": _stage_jsonl}[fmt]
    return reader(path, source, out, progress or (lambda n: None))


# -- CSV ------------------------------------------------------------------------------------
def _detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample.
        sample[: len(sample) - 3 if len(sample) == SAMPLE_BYTES else None].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _detect_decimal(rows: list[list[str]]) -> str:
    comma = dot = 0
    for row in rows:
        for value in row:
            value = value.strip()
            comma += bool(_COMMA_DECIMAL.match(value))
            dot += bool(_DOT_DECIMAL.match(value))
    return "," if comma > dot else "."


def _first_bad_utf8_line(path: Path) -> int:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            for raw_line in chunk.splitlines(keepends=True):
                try:
                    decoder.decode(raw_line)
                except UnicodeDecodeError:
                    return line
                line += raw_line.endswith(b"\n")
    return line


def _stage_csv(path: Path, source: SourceConfig, out: Path, progress: Progress) -> Staged:
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample.strip():
        raise UserInputError(Problem("the file is empty (no header line)", file=path.name))
    encoding = source.encoding or _detect_encoding(sample)
    try:
        text = codecs.decode(sample, encoding, errors="ignore")
    except LookupError:
        raise UserInputError(
            Problem(f"unknown encoding '{encoding}'", file=path.name, hint="use utf-8 or cp1252")
        ) from None
    lines = text.splitlines()
    delimiter = source.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    parsed = list(csv.reader(lines[:200], delimiter=delimiter))
    header = [h.strip() for h in parsed[0]]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes or "" in header:
        raise UserInputError(
            Problem(
                "the header has "
                + (f"duplicate columns {', '.join(dupes)}" if dupes else "an empty column name"),
                file=path.name,
                line=1,
                hint="give every column a distinct name",
            )
        )
    decimal = source.decimal or _detect_decimal(parsed[1:])

    ragged: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged.append(row.actual_columns)
        return "skip"

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from pacsv.open_csv(
                _CountingFile(path.open("rb"), progress),
                read_options=pacsv.ReadOptions(
                    encoding=encoding, block_size=BLOCK_BYTES, column_names=header, skip_rows=1
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header},
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
        except pa.ArrowInvalid as e:
            message = str(e)
            if "UTF8" in message or "utf-8" in message.lower():
                raise UserInputError(
                    Problem(
                        f"not valid {encoding} text",
                        file=path.name,
                        line=_first_bad_utf8_line(path),
                        hint="set the source's encoding (encoding: cp1252 for Windows exports)",
                    )
                ) from None
            raise UserInputError(Problem(f"unreadable CSV: {message}", file=path.name)) from None

    rows = _write_staging(batches(), header, out, first_line=2)
    if ragged:
        bad = _ragged_lines(path, encoding, delimiter, len(header))
        shown = "; ".join(f"line {n} has {k} fields" for n, k in bad[:3])
        more = f" (and {len(ragged) - 3} more lines)" if len(ragged) > 3 else ""
        raise UserInputError(
            Problem(
                f"{shown}{more}, expected {len(header)}",
                file=path.name,
                hint=f"check the delimiter ({delimiter!r}) and the quoting; nothing was loaded",
            )
        )
    return Staged(out, header, rows, decimal)


def _ragged_lines(
    path: Path, encoding: str, delimiter: str, expected: int
) -> list[tuple[int, int]]:
    """The first lines whose field count is wrong (read again, only when there are some)."""
    found: list[tuple[int, int]] = []
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader, None)
        start = reader.line_num + 1
        for fields in reader:
            if fields and len(fields) != expected:
                found.append((start, len(fields)))
                if len(found) == 3:
                    break
            start = reader.line_num + 1
    return found


# -- Parquet --------------------------------------------------------------------------------
def _stage_parquet(path: Path, source: SourceConfig, out: Path, progress: Progress) -> Staged:
    try:
        pf = pq.ParquetFile(path)
        columns = pf.schema_arrow.names
        size = path.stat().st_size
        per_group = size // max(pf.num_row_groups, 1)

        def batches() -> Iterator[pa.RecordBatch]:
            for i in range(pf.num_row_groups):
                for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[i]):
                    yield pa.RecordBatch.from_arrays(
                        [_as_text(col) for col in batch.columns], names=columns
                    )
                progress(per_group)

        rows = _write_staging(batches(), columns, out, first_line=1)
    except (pa.ArrowInvalid, OSError) as e:
        raise UserInputError(
            Problem(f"unreadable Parquet file: {e}", file=path.name, hint="re-export the file")
        ) from None
    return Staged(out, columns, rows, ".")


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    if pa.types.is_nested(array.type):
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
            pa.string(),
        )
    return array.cast(pa.string())


# -- JSON lines -----------------------------------------------------------------------------
def _stage_jsonl(path: Path, source: SourceConfig, out: Path, progress: Progress) -> Staged:
    encoding = source.encoding or "utf-8"
    columns: dict[str, None] = {}
    parts: list[Path] = []
    total = 0

    def flush(records: list[dict[str, str | None]], lines: list[int]) -> None:
        names = list(columns)
        arrays = [pa.array([r.get(n) for r in records], pa.string()) for n in names]
        part = out.with_name(f"{out.stem}.part{len(parts)}.parquet")
        pq.write_table(pa.table([*arrays, pa.array(lines, pa.int64())], names=[*names, LINE]), part)
        parts.append(part)

    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            progress(len(raw))
            if not raw.strip():
                continue
            record = _json_record(raw, encoding)
            for key in record:
                columns.setdefault(key, None)
            records.append(record)
            lines.append(number)
            if len(records) >= BATCH_ROWS:
                flush(records, lines)
                total += len(records)
                records, lines = [], []
    if records or not parts:
        flush(records, lines)
        total += len(records)
    _merge_parts(parts, [*columns, LINE], out)
    return Staged(out, [c for c in columns if c != JSON_ERROR], total, ".")


def _json_record(raw: bytes, encoding: str) -> dict[str, str | None]:
    try:
        value = json.loads(raw.decode(encoding))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return {JSON_ERROR: f"not valid JSON ({e}): {raw[:80]!r}"}
    if not isinstance(value, dict):
        return {JSON_ERROR: f"not a JSON object: {raw[:80]!r}"}
    return {
        k: None
        if v is None
        else json.dumps(v, ensure_ascii=False)
        if isinstance(v, dict | list)
        else ("true" if v else "false")
        if isinstance(v, bool)
        else str(v)
        for k, v in value.items()
    }


def _merge_parts(parts: list[Path], names: list[str], out: Path) -> None:
    schema = pa.schema([(n, pa.int64() if n == LINE else pa.string()) for n in names])
    with pq.ParquetWriter(out, schema) as writer:
        for part in parts:
            table = pq.read_table(part)
            missing = [n for n in names if n not in table.column_names]
            for n in missing:
                table = table.append_column(n, pa.nulls(len(table), pa.string()))
            writer.write_table(table.select(names).cast(schema))
            part.unlink()


class _CountingFile:
    """A binary file that reports how many bytes were read, for the progress bar."""

    def __init__(self, raw, progress: Progress) -> None:
        self.raw = raw
        self.progress = progress
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.progress(len(data))
        return data

    def close(self) -> None:
        self.raw.close()
        self.closed = True


def _write_staging(
    batches: Iterator[pa.RecordBatch], columns: list[str], out: Path, first_line: int
) -> int:
    schema = pa.schema([*((c, pa.string()) for c in columns), (LINE, pa.int64())])
    rows = 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in batches:
            n = batch.num_rows
            line = pa.array(range(first_line + rows, first_line + rows + n), pa.int64())
            writer.write_batch(pa.RecordBatch.from_arrays([*batch.columns, line], schema=schema))
            rows += n
    return rows
