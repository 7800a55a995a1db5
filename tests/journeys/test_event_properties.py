"""Event properties are read with the engine's JSON functions, the same on every engine."""

from __future__ import annotations

import pyarrow as pa


def test_json_text_reads_scalars_and_gives_null_for_absent_keys_or_malformed_text(workspace):
    engine = workspace.engine
    texts = [
        '{"late": true, "score": 2, "device": "mobile", "revenue": 20.5, "note": "a,b}"}',
        '{"late": false, "device": null}',
        "{}",
        None,
        "not json {",
    ]
    t = engine.from_arrow(pa.table({"n": range(len(texts)), "p": texts}), "props")
    expr = t.select(
        "n",
        late=engine.json_text(t.p, "late"),
        score=engine.json_text(t.p, "score").cast("float64"),
        device=engine.json_text(t.p, "device"),
        revenue=engine.json_text(t.p, "revenue").cast("float64"),
        note=engine.json_text(t.p, "note"),
    ).order_by("n")
    got = engine.to_pyarrow(expr).to_pylist()
    assert [(r["late"], r["score"], r["device"], r["revenue"], r["note"]) for r in got] == [
        ("true", 2.0, "mobile", 20.5, "a,b}"),
        ("false", None, None, None, None),
        (None, None, None, None, None),
        (None, None, None, None, None),
        (None, None, None, None, None),
    ]
