"""The block JSON-lines reader gives what parsing each line with Python's json module gives."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from parcours.config import SourceConfig
from parcours.ingest import readers
from parcours.ingest.readers import JSON_ERROR, LINE

TRICKY = (
    '{"id": "e1", "props": {"path": "/a:b, c", "n": [2, {"x": "q\\"r,:"}], "e": "é"}, '
    '"v": 89.00, "ok": true, "no": false, "z": null}\n'
    "{not json\n"
    "\n"
    "   \r\n"
    "[1, 2]\n"
    "null\n"
    '{"a": 1, "a": 2}\n'
    '{"k\'q": "it\'s", "k\\"w": 1, "s": "{not nested", "t": "tab\\there", "l": [], "o": {}}\r\n'
    "{}\n"
    '{"id": "e9", "big": 12345678901234567890, "f": 0.1, "neg": -12, "id2": "\\u00e9"}\n'
    '{"late": "a key first seen at the end", "props": "now a string"}'
)


def expected(text: str) -> list[dict]:
    """The reference: each non-blank line through json.loads, as the Python reader did.

    (``splitlines`` would also split at a lone carriage return; TRICKY has none.)
    """
    out = []
    for number, line in enumerate(text.encode("utf-8").splitlines(keepends=True), start=1):
        if line.strip():
            record = readers._json_record(line, "utf-8")
            out.append({**record, LINE: number})
    return out


def staged(path, tmp_path, **source) -> tuple[readers.Staged, list[dict]]:
    result = readers.stage_file(path, SourceConfig(**source), tmp_path / "staged.parquet")
    rows = pq.read_table(result.path).to_pylist()
    return result, [{k: v for k, v in r.items() if v is not None} for r in rows]


@pytest.mark.parametrize("block_bytes", [16 << 20, 64])
def test_jsonl_reader_matches_python_json_line_by_line(tmp_path, monkeypatch, block_bytes):
    # A 64-byte block cuts the file at nearly every line, and inside the longest ones.
    monkeypatch.setattr(readers, "JSON_BLOCK_BYTES", block_bytes)
    path = tmp_path / "events.jsonl"
    path.write_bytes(TRICKY.encode("utf-8"))

    result, got = staged(path, tmp_path)

    want = [{k: v for k, v in r.items() if v is not None} for r in expected(TRICKY)]
    assert got == want
    assert result.rows == len(want) == 9
    order = list(dict.fromkeys(k for r in expected(TRICKY) for k in r if k != LINE))
    assert result.columns == [c for c in order if c != JSON_ERROR]
    by_line = {r[LINE]: r for r in got}
    assert by_line[1]["props"] == '{"path": "/a:b, c", "n": [2, {"x": "q\\"r,:"}], "e": "é"}'
    assert by_line[1]["v"] == "89.0" and by_line[1]["ok"] == "true"
    assert by_line[2][JSON_ERROR].startswith("not valid JSON")
    assert by_line[5][JSON_ERROR].startswith("not a JSON object")
    assert by_line[7]["a"] == "2"  # the last of a repeated key, as json.loads keeps it
    assert by_line[8]["s"] == "{not nested" and by_line[8]["o"] == "{}"


def test_jsonl_line_that_is_not_valid_utf8_is_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": "a"}\n{"id": "caf\xe9"}\n{"id": "c"}\n')

    _, got = staged(path, tmp_path)

    assert [r[LINE] for r in got] == [1, 2, 3]
    assert got[0]["id"] == "a" and got[2]["id"] == "c"
    assert got[1][JSON_ERROR].startswith("not valid utf-8 text (invalid continuation byte)")


def test_jsonl_in_cp1252_is_decoded(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"city": "Besançon", "n": 1}\n'.encode("cp1252"))

    _, got = staged(path, tmp_path, encoding="cp1252")

    assert got == [{"city": "Besançon", "n": "1", LINE: 1}]


def test_jsonl_of_blank_lines_only_stages_no_row(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n  \n")

    result, got = staged(path, tmp_path)

    assert got == [] and result.rows == 0 and result.columns == []


def test_jsonl_numbers_keep_their_value(tmp_path):
    """Exponents may be written differently from Python's str(float), never another value."""
    values = [0, -3, 2.5, 1e-7, 1.5e300, 1e16, 123456789012345678]
    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps({"v": v}) + "\n" for v in values))

    _, got = staged(path, tmp_path)

    assert [float(r["v"]) for r in got] == [float(v) for v in values]
