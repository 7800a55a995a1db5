"""Read CSV, Parquet and JSON-lines files into a staging Parquet file of text columns.

Files are streamed in blocks, so a file of any size is never held whole in memory. Every
value is kept as text; typing and validation happen afterwards, in the engine. Only
file-level failures raise (encoding, ragged rows, unreadable Parquet): row problems are data.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


@dataclass(frozen=True)
class Staged:
    """What a reader wrote: the staging file, its input columns, and the file's dialect."""

    path: Path
    columns: list[str]
    rows: int
    decimal: str | None  # None when the source does not say: read from the whole file


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
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _candidate_encodings(sample: bytes, path: Path) -> list[str]:
    """The encodings to try, in order, when the source does not set one.

    A byte-order mark decides. A start that is valid UTF-8 with some non-ASCII text is UTF-8
    for the whole file (a later bad byte is an error, not a reason to switch). A start of
    plain ASCII says nothing: UTF-8 first, then cp1252 (Windows exports).
    """
    if sample.startswith(codecs.BOM_UTF8):
        return ["utf-8-sig"]
    if sample.startswith(_UTF16_BOMS):
        return ["utf-16"]
    if b"\x00" in sample:
        raise UserInputError(
            Problem(
                "the file has NUL bytes: it is UTF-16 without a byte-order mark, or not text",
                file=path.name,
                hint="save it as UTF-8 CSV, or set the source's encoding (utf-16-le)",
            )
        )
    try:
        # A multi-byte character may be cut at the end of the sample.
        sample[: len(sample) - 3 if len(sample) == SAMPLE_BYTES else None].decode("utf-8")
    except UnicodeDecodeError:
        return ["cp1252"]
    return ["utf-8"] if not sample.isascii() else ["utf-8", "cp1252"]


def _first_bad_line(path: Path, encoding: str) -> int:
    decoder = codecs.getincrementaldecoder(encoding)()
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


class _NotDecodable(Exception):
    """The file has bytes that are not text in the encoding being tried."""


def _stage_csv(path: Path, source: SourceConfig, out: Path, progress: Progress) -> Staged:
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample.strip():
        raise UserInputError(Problem("the file is empty (no header line)", file=path.name))
    encodings = [source.encoding] if source.encoding else _candidate_encodings(sample, path)
    text = codecs.decode(sample, encodings[0], errors="ignore")
    lines = text.splitlines()
    delimiter = source.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    header = [h.strip() for h in next(csv.reader(lines[:1], delimiter=delimiter))]
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
    decimal = source.decimal  # None: read from the whole file, in the engine (validate)
    if len(sample) < SAMPLE_BYTES and len([x for x in lines if x.strip()]) == 1:
        # Only a header (with or without a final newline): a file of no rows.
        return Staged(out, header, _write_staging(iter(()), header, out, 2), decimal)
    for i, encoding in enumerate(encodings):
        try:
            return _stage_csv_as(path, encoding, delimiter, header, out, progress, decimal)
        except _NotDecodable:
            if i + 1 < len(encodings):
                continue
            line = _first_bad_line(path, encoding)
            how = "set in the source's config" if source.encoding else "detected"
            raise UserInputError(
                Problem(
                    f"not valid {encoding} text (encodings tried: {', '.join(encodings)}, {how})",
                    file=path.name,
                    line=line,
                    hint="set the source's encoding (encoding: cp1252 for Windows exports, "
                    "utf-8, utf-16)",
                )
            ) from None
    raise AssertionError("unreachable: every encoding returns or raises")


def _stage_csv_as(
    path: Path,
    encoding: str,
    delimiter: str,
    header: list[str],
    out: Path,
    progress: Progress,
    decimal: str | None,
) -> Staged:
    ragged: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged.append(row.actual_columns)
        return "skip"

    counting = _CountingFile(path.open("rb"), progress)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from pacsv.open_csv(
                counting,
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
        except UnicodeDecodeError:  # from the transcoding of a non-UTF-8 encoding
            raise _NotDecodable from None
        except pa.ArrowInvalid as e:
            message = str(e)
            if "UTF8" in message or "utf-8" in message.lower():
                raise _NotDecodable from None
            raise UserInputError(Problem(f"unreadable CSV: {message}", file=path.name)) from None

    try:
        rows = _write_staging(batches(), header, out, first_line=2)
    finally:
        counting.close()
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
    lines = counting.newlines + (counting.last != b"\n")
    if encoding == "utf-16" or lines != rows + 1:
        # Blank lines or values over several lines: a row's line is not its rank + 1.
        _renumber_lines(out, _record_lines(path, encoding, delimiter))
    return Staged(out, header, rows, decimal)


def _record_lines(path: Path, encoding: str, delimiter: str) -> list[int]:
    """The line each record (after the header) starts on, blank lines skipped."""
    starts: list[int] = []
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader, None)
        start = reader.line_num + 1
        for fields in reader:
            if fields:
                starts.append(start)
            start = reader.line_num + 1
    return starts


def _renumber_lines(staged: Path, lines: list[int]) -> None:
    numbers = np.asarray(lines, dtype=np.int64)
    source = pq.ParquetFile(staged)
    if source.metadata.num_rows != len(numbers):
        return  # the two readers disagree; keep the ranks rather than wrong lines
    tmp = staged.with_name(staged.name + ".lines")
    done = 0
    with pq.ParquetWriter(tmp, source.schema_arrow) as writer:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            where = batch.schema.get_field_index(LINE)
            line = pa.array(numbers[done : done + batch.num_rows])
            writer.write_batch(batch.set_column(where, LINE, line))
            done += batch.num_rows
    tmp.replace(staged)


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
# JSON-lines files are read in blocks of whole lines. Each block becomes an Arrow array of its
# lines (cut at the newlines numpy finds, no Python object per line) that DuckDB's JSON
# functions parse in a private in-memory database: the keys of every line, then every value
# as text in one more parse. Only the rare lines that DuckDB cannot read the way Python's json
# module does (not JSON, not an object, a repeated key) are parsed in Python, one by one, with
# the rules and messages of ``_json_record``; so is a block not valid in the file's encoding.
# Values are the same text as json.loads + str() give, except numbers with an exponent
# (1e-7 for Python's 1e-07, 10000000000000000.0 for 1e+16): the same number either way.
JSON_BLOCK_BYTES = 16 << 20
_RAW = "raw"
# What bytes.strip() removes: a line of only these is blank and skipped.
_BLANK = np.zeros(256, dtype=bool)
_BLANK[list(b" \t\n\r\x0b\x0c")] = True
# Python's json.dumps puts a space after the ":" and "," separators, DuckDB writes none. The
# pattern matches whole strings, so the separators inside them are left alone; chr(1) never
# occurs raw in valid JSON and marks what was matched.
_JSON_TOKEN = r'"(?:[^"\\]|\\.)*"|[:,]'


def _stage_jsonl(path: Path, source: SourceConfig, out: Path, progress: Progress) -> Staged:
    encoding = source.encoding or "utf-8"
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        raise UserInputError(
            Problem(f"unknown encoding '{encoding}'", file=path.name, hint="use utf-8 or cp1252")
        ) from None
    _check_json_lines(path, utf8)
    columns: dict[str, None] = {}
    parts: list[Path] = []
    total = 0
    first_line = 1
    con = duckdb.connect()
    try:
        for block in _line_blocks(path, progress):
            table = _parse_block(con, block, first_line, encoding, utf8)
            first_line += block.count(b"\n")
            for name in table.column_names:
                if name != LINE:
                    columns.setdefault(name, None)
            if table.num_rows:
                part = out.with_name(f"{out.stem}.part{len(parts)}.parquet")
                pq.write_table(table, part, compression="none")  # read once, then deleted
                parts.append(part)
                total += table.num_rows
    finally:
        con.close()
    if not parts:
        part = out.with_name(f"{out.stem}.part0.parquet")
        pq.write_table(pa.table({LINE: pa.array([], pa.int64())}), part)
        parts.append(part)
    _merge_parts(parts, [*columns, LINE], out)
    if total and JSON_ERROR in columns:
        errors = pq.read_table(out, columns=[JSON_ERROR, LINE])
        if errors[JSON_ERROR].null_count == 0:  # not one line is a JSON object
            raise UserInputError(
                Problem(
                    f"not a JSON-lines file: none of its {total} lines is a JSON object "
                    f"(line {errors[LINE][0]}: {errors[JSON_ERROR][0]})",
                    file=path.name,
                    hint="JSON lines hold one object per line, such as "
                    '{"order_id": "A1", "total_amount": 12.5}',
                )
            )
    return Staged(out, [c for c in columns if c != JSON_ERROR], total, source.decimal)


def _check_json_lines(path: Path, utf8: bool) -> None:
    """Refuse, with what they are, the files that are not JSON lines at all."""
    with path.open("rb") as f:
        start = f.read(SAMPLE_BYTES)
    if utf8 and (start.startswith(_UTF16_BOMS) or b"\x00" in start):
        raise UserInputError(
            Problem(
                "the file is UTF-16 (or not text): JSON lines are read as UTF-8",
                file=path.name,
                hint="convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)",
            )
        )
    if start.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"["):
        raise UserInputError(
            Problem(
                "the file is a JSON array, not JSON lines (one object per line)",
                file=path.name,
                hint="convert it, for example with: jq -c '.[]' FILE > FILE.jsonl",
            )
        )


def _line_blocks(path: Path, progress: Progress) -> Iterator[bytes]:
    """The file in blocks of about ``JSON_BLOCK_BYTES`` that end at a newline (or the end)."""
    carry = b""
    with path.open("rb") as f:
        while chunk := f.read(JSON_BLOCK_BYTES):
            progress(len(chunk))
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                yield data[:cut]
    if carry:
        yield carry


def _line_array(block: bytes) -> pa.StringArray:
    """One Arrow string per line of ``block`` (newline included), without copying it."""
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("\n")) + 1
    if not len(ends) or ends[-1] != len(block):
        ends = np.append(ends, len(block))
    offsets = np.concatenate([[0], ends]).astype(np.int32)
    return pa.StringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(block))


def _parse_block(
    con: duckdb.DuckDBPyConnection, block: bytes, first_line: int, encoding: str, utf8: bool
) -> pa.Table:
    """The records of the non-blank lines of ``block``: text columns plus ``LINE``."""
    try:
        text = block if utf8 else block.decode(encoding).encode("utf-8")
        lines = _line_array(text)
        lines.validate(full=True)  # checks that every line is valid UTF-8
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return _records_table(_python_records(block, first_line, encoding))
    numbers = pa.array(np.arange(first_line, first_line + len(lines), dtype=np.int64))
    table = pa.table({LINE: numbers, _RAW: lines}).filter(_non_blank(text, lines))
    con.register("_parcours_block", table)
    try:
        # One parse per line: the object as a map of its keys to their values as text. A
        # line that is not JSON, not an object, or repeats a key gives null.
        maps = con.execute(
            f"""SELECT try(json_transform({_RAW}, '"MAP(VARCHAR, VARCHAR)"')) AS m
            FROM _parcours_block"""
        ).to_arrow_table()
    finally:
        con.unregister("_parcours_block")
    maps = maps.column("m").combine_chunks()
    fast = maps.is_valid()
    good = table.filter(fast)
    keys, columns, first_seen = _pivot(maps.filter(fast), good[LINE].to_numpy())
    columns = _nested_as_json_text(con, good, keys, columns)
    result = pa.table([*columns, good[LINE]], names=[*keys, LINE])
    slow = table.filter(pc.invert(fast))
    if slow.num_rows:
        # The few lines left (bad JSON, not an object, a repeated key): the Python rules.
        records = [
            (n, _json_record(raw.encode("utf-8"), "utf-8"))
            for n, raw in zip(slow[LINE].to_pylist(), slow[_RAW].to_pylist(), strict=True)
        ]
        result = pa.concat_tables([result, _records_table(records)], promote_options="default")
        result = result.sort_by(LINE)
        first_seen += [(k, n, i) for n, record in records for i, k in enumerate(record)]
    order = sorted(first_seen, key=lambda seen: seen[1:])
    return result.select([*dict.fromkeys(k for k, _, _ in order), LINE])


def _non_blank(text: bytes, lines: pa.StringArray) -> np.ndarray:
    """Whether each line has a byte that is not whitespace.

    Almost every line starts with ``{``: only the lines starting with whitespace are looked
    at whole.
    """
    offsets = np.frombuffer(lines.buffers()[1], np.int32, len(lines) + 1)
    starts, ends = offsets[:-1], offsets[1:]
    buf = np.frombuffer(text, np.uint8)
    keep = ends > starts
    keep[keep] = ~_BLANK[buf[starts[keep]]]
    for i in np.flatnonzero(~keep & (ends > starts)):
        keep[i] = bool(text[starts[i] : ends[i]].strip())
    return keep


def _pivot(
    maps: pa.MapArray, lines: np.ndarray
) -> tuple[list[str], list[pa.Array], list[tuple[str, int, int]]]:
    """One text column per key of the maps (null where a line lacks it).

    Also returns each key with the line and the position in that line where it first appears,
    to put the columns in the order the Python reader did.
    """
    # The children are shared with any parent array: keep the entries the offsets point to.
    offsets = maps.offsets.to_numpy()
    used = slice(int(offsets[0]), int(offsets[-1]))
    offsets = offsets - offsets[0]
    keys = maps.keys[used]
    items = maps.items[used]
    if not len(keys):
        return [], [], []
    codes = keys.dictionary_encode()
    names = codes.dictionary.to_pylist()  # in order of first appearance
    code = codes.indices.to_numpy()
    parent = np.repeat(np.arange(len(maps)), np.diff(offsets))
    by_key = np.argsort(code, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(code, minlength=len(names)))])
    columns, first_seen = [], []
    for i, name in enumerate(names):
        entries = by_key[bounds[i] : bounds[i + 1]]  # in line order: the sort is stable
        rows = parent[entries]
        where = np.full(len(maps), -1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        taken = items.take(pa.array(entries)).take(pa.array(where, mask=where < 0))
        columns.append(taken)
        first = entries[0]
        first_seen.append((name, int(lines[parent[first]]), int(first - offsets[parent[first]])))
    return names, columns, first_seen


def _nested_as_json_text(
    con: duckdb.DuckDBPyConnection, table: pa.Table, keys: list[str], columns: list[pa.Array]
) -> list[pa.Array]:
    """The columns with their nested objects and arrays as JSON text in json.dumps' style."""
    columns = list(columns)
    for i, key in enumerate(keys):
        # Only a column with a value that starts like an object or an array can hold one; the
        # JSON form of the values says which really are (a string keeps its quotes there).
        maybe = pc.or_(pc.starts_with(columns[i], "{"), pc.starts_with(columns[i], "["))
        if not pc.any(maybe).as_py():
            continue
        con.register("_parcours_block", table)
        try:
            spec = json.dumps({key: "JSON"})
            nested = con.execute(
                f"SELECT from_json({_RAW}, {_sql_string(spec)}) AS j FROM _parcours_block"
            ).to_arrow_table()
        finally:
            con.unregister("_parcours_block")
        as_json = nested.column("j").combine_chunks().flatten()[0].cast(pa.string())
        is_nested = pc.and_kleene(
            maybe, pc.or_(pc.starts_with(as_json, "{"), pc.starts_with(as_json, "["))
        )
        spaced = pc.replace_substring_regex(as_json, _JSON_TOKEN, "\\0\x01")
        for separator in (":", ","):
            spaced = pc.replace_substring(spaced, separator + "\x01", separator + " ")
        spaced = pc.replace_substring(spaced, "\x01", "")
        columns[i] = pc.if_else(is_nested, spaced, columns[i])
    return columns


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _python_records(
    block: bytes, first_line: int, encoding: str
) -> list[tuple[int, dict[str, str | None]]]:
    """Each non-blank line of ``block`` parsed in Python, with its line number."""
    pieces = block.split(b"\n")
    lines = [piece + b"\n" for piece in pieces[:-1]] + [pieces[-1]]  # as iterating a file
    return [
        (number, _json_record(raw, encoding))
        for number, raw in enumerate(lines, start=first_line)
        if raw.strip()
    ]


def _records_table(records: list[tuple[int, dict[str, str | None]]]) -> pa.Table:
    names = list(dict.fromkeys(k for _, record in records for k in record))
    arrays = [pa.array([r.get(n) for _, r in records], pa.string()) for n in names]
    lines = pa.array([n for n, _ in records], pa.int64())
    return pa.table([*arrays, lines], names=[*names, LINE])


def _json_record(raw: bytes, encoding: str) -> dict[str, str | None]:
    try:
        value = json.loads(raw.decode(encoding))
    except UnicodeDecodeError as e:
        return {JSON_ERROR: f"not valid {encoding} text ({e.reason}): {raw[:80]!r}"}
    except json.JSONDecodeError as e:
        return {JSON_ERROR: f"not valid JSON ({e.msg} at character {e.pos + 1}): {raw[:80]!r}"}
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
    """A binary file that reports how many bytes were read, for the progress bar.

    It also counts the newlines read: when they match the rows, each row is on its own line.
    """

    def __init__(self, raw, progress: Progress) -> None:
        self.raw = raw
        self.progress = progress
        self.closed = False
        self.newlines = 0
        self.last = b""

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.progress(len(data))
        if data:
            self.newlines += data.count(b"\n")
            self.last = data[-1:]
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
