"""Training on data whose rarest agreements never occur among random pairs."""

from __future__ import annotations

import hashlib
import json

import pytest

from parcours.identity import resolve
from tests.identity.hand_made import ingest_customers

FIRST = ["Paul", "Anne", "Luc", "Sophie", "Marc", "Julie", "Eric", "Claire", "Hugo", "Ines"]
LAST = ["Bernard", "Robert", "Richard", "Durand", "Lefebvre", "Garnier", "Faure", "Andre"]


def distinct_people(n: int) -> list[str]:
    """``n`` different people whose emails share no local part, even one typo apart."""
    rows = []
    for i in range(n):
        tag = hashlib.md5(str(i).encode()).hexdigest()[:10]
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        born = f"19{40 + i % 50}-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}"
        rows.append(
            f"p{i},{tag}@mail.fr,,{first},{last},{born},{i} rue Haute,{69001 + i % 9},Lyon,,"
        )
    return rows


def test_a_level_no_random_pair_falls_in_is_strong_evidence(make_workspace, tmp_path):
    ws = make_workspace()
    ingest_customers(ws, tmp_path, "store", distinct_people(600))
    summary = resolve(ws)
    model = json.loads((ws.dir / "identity-model.json").read_text())
    email = next(c for c in model["comparisons"] if c["output_column_name"] == "email")
    typo = next(lv for lv in email["comparison_levels"] if "one edit" in lv["label_for_charts"])
    # 179,700 possible pairs, all sampled, none one edit apart: u is 1 / 179,700, saved with
    # the model (not a generic default of Splink's), so an email one typo apart weighs like
    # the near-unique agreement it is.
    assert typo["u_probability"] == pytest.approx(1 / 179_700)
    assert any("local part one edit apart" in p for p in summary.match.priors)
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert level.get("u_probability") is not None, level["label_for_charts"]


def test_a_narrow_rule_over_the_budget_lengthens_its_name_prefix(make_workspace, monkeypatch):
    """Thirty first names sharing their first three letters, two records each, one family
    name and postal code: the first letter narrows nothing, the first four split them."""
    import pyarrow as pa

    from parcours.identity import matching

    firsts = [f"max{chr(97 + i)}" for i in range(30) for _ in range(2)]
    engine = make_workspace().engine
    records = engine.from_arrow(
        pa.table(
            {
                "first_name": firsts,
                "last_name": ["martin"] * 60,
                "postal_code": ["75001"] * 60,
            }
        ),
        "records",
    )
    monkeypatch.setattr(matching, "PAIR_BUDGET", 0)  # the budget is then 2 pairs per record
    rules = matching.chosen_rules(engine, records, {"first_name", "last_name", "postal_code"}, 60)
    labels = [matching._rule_label(r) for r in rules]
    # first_name[:1] to [:3] make all 1,770 pairs, [:4] the 30 of the true pairs only.
    assert labels[0] == "first_name[:4] + last_name + postal_code"
    assert matching.pair_count(engine, records, rules[0]) == 30
    # A rule within the budget keeps its prefix.
    assert labels[1] == "first_name + last_name[:1] + postal_code"
